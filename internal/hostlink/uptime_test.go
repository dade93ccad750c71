package hostlink

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// uptimeDriver is the fake driver with an uptime to report.
type uptimeDriver struct{ *fake.Driver }

func (uptimeDriver) HostUptime(context.Context) (string, error) {
	return " 08:32:11 up 93 days, 18:25,  0 users,  load average: 0.20, 0.12, 0.14", nil
}

// TestHostUptime: a host answers its driver's uptime line; one whose
// driver measures none (the fake driver, as Nova's) answers so, and the
// client says virt.ErrNotSupported; an unsigned call is refused.
func TestHostUptime(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		name    string
		driver  virt.Driver
		want    string
		wantErr error
	}{
		{"measured", uptimeDriver{fake.New(fake.Options{})}, " 08:32:11 up 93 days, 18:25,  0 users,  load average: 0.20, 0.12, 0.14", nil},
		{"fake driver measures none", fake.New(fake.Options{}), "", virt.ErrNotSupported},
	} {
		srv := httptest.NewServer(Handler(NewSigner([]byte("shared"), nil), c.driver, nil, nil, time.Minute, log))
		client := &Client{Signer: NewSigner([]byte("shared"), nil), HTTP: srv.Client()}
		got, err := client.HostUptime(context.Background(), srv.URL)
		if got != c.want || !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
			t.Errorf("%s: %q, %v; want %q, %v", c.name, got, err, c.want, c.wantErr)
		}
		stranger := &Client{Signer: NewSigner([]byte("not the cloud's"), nil), HTTP: srv.Client()}
		if _, err := stranger.HostUptime(context.Background(), srv.URL); err == nil || errors.Is(err, virt.ErrNotSupported) {
			t.Errorf("%s: a call signed with another key: %v, want refused", c.name, err)
		}
		srv.Close()
	}
}
