package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
)

// TestRateLimits: kumo started with --rate-limits and a rules file
// refuses gophercloud's request past a limit with Nova's v2 413
// overLimit and Retry-After, shows the limit in /limits, and lets the
// client through again once the window has passed.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "rate-limits.yaml")
	if err := os.WriteFile(file, []byte(`rate_limits:
  - {verb: GET, uri: "*/flavors", regex: "^/flavors", value: 3, unit: SECOND}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := Start(t, kumoBin, Options{Args: []string{"--rate-limits", file}})
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	ctx := context.Background()
	list := func() error {
		_, err := flavors.ListDetail(c.Compute, nil).AllPages(ctx)
		return err
	}

	// Four lists inside one second: three pass, the fourth is refused.
	// A round that straddles a second (a slow machine) is tried again.
	var refused error
	for round := 0; round < 5 && refused == nil; round++ {
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
		start := time.Now()
		var errs []error
		for range 4 {
			errs = append(errs, list())
		}
		if time.Since(start) > 900*time.Millisecond {
			continue
		}
		for i, err := range errs[:3] {
			if err != nil {
				t.Fatalf("list %d of the window refused: %v", i+1, err)
			}
		}
		refused = errs[3]
		if refused == nil {
			t.Fatal("the fourth list in one second passed a limit of 3 a second")
		}
	}
	if refused == nil {
		t.Skip("no round of four requests fitted in one second")
	}
	e := unexpected(t, refused)
	body := string(e.Body)
	if e.Actual != http.StatusRequestEntityTooLarge || e.ResponseHeader.Get("Retry-After") != "1" ||
		!strings.Contains(body, `"overLimit"`) || !strings.Contains(body, `"message":"This request was rate-limited."`) ||
		!strings.Contains(body, `"retryAfter":"1"`) ||
		!strings.Contains(body, `"details":"Only 3 GET request(s) can be made to */flavors every second."`) {
		t.Fatalf("refusal %d Retry-After %q: %s", e.Actual, e.ResponseHeader.Get("Retry-After"), body)
	}

	// /limits shows the rule; the next window lets the client through.
	var limits struct {
		Limits struct {
			Rate []struct {
				Regex string `json:"regex"`
				URI   string `json:"uri"`
				Limit []struct {
					Verb  string `json:"verb"`
					Value int    `json:"value"`
					Unit  string `json:"unit"`
				} `json:"limit"`
			} `json:"rate"`
		} `json:"limits"`
	}
	if _, err := c.Compute.Get(ctx, c.Compute.ServiceURL("limits"), &limits, &gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
		t.Fatal(err)
	}
	if r := limits.Limits.Rate; len(r) != 1 || r[0].Regex != "^/flavors" || r[0].URI != "*/flavors" || len(r[0].Limit) != 1 ||
		r[0].Limit[0].Verb != "GET" || r[0].Limit[0].Value != 3 || r[0].Limit[0].Unit != "SECOND" {
		t.Errorf("rate section %+v", r)
	}
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
	if err := list(); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// TestRateLimitsShared: two `kumo api` processes of one cloud on
// PostgreSQL, each started with the same --rate-limits file, share a
// project's counter: of four key pair creates sent to them in turn,
// three pass and the fourth is refused, and either shows the other's
// use in /limits.
func TestRateLimitsShared(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "rate-limits.yaml")
	if err := os.WriteFile(file, []byte(`rate_limits:
  - {verb: POST, uri: "*/os-keypairs", regex: "^/os-keypairs", value: 3, unit: MINUTE}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	dsn, _ := postgresSchema(t)
	RunKumo(t, kumoBin, "migrate", "--database", dsn, "--data-dir", t.TempDir())
	dir := t.TempDir()
	shared := []string{"--database", dsn, "--secret-key-file", filepath.Join(dir, "secret.key"), "--rate-limits", file}
	first := Start(t, kumoBin, Options{Command: "api", Args: shared})
	second := Start(t, kumoBin, Options{Command: "api", Args: shared})
	clouds, err := os.ReadFile(first.CloudsFile())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(clouds), first.Listen, second.Listen)), 0o600); err != nil {
		t.Fatal(err)
	}
	clients := []*Clients{NewClients(t, first.CloudsFile(), "kumo"), NewClients(t, path, "kumo")}
	ctx := context.Background()
	// Four creates in one minute: wait out a minute about to end.
	if now := time.Now(); now.Truncate(time.Minute).Add(time.Minute).Sub(now) < 20*time.Second {
		time.Sleep(time.Until(now.Truncate(time.Minute).Add(time.Minute + 100*time.Millisecond)))
	}
	for i := range 4 {
		_, err := keypairs.Create(ctx, clients[i%2].Compute, keypairs.CreateOpts{Name: fmt.Sprintf("k%d", i)}).Extract()
		if i < 3 && err != nil {
			t.Fatalf("create %d (process %d): %v", i+1, i%2+1, err)
		}
		if i == 3 {
			if e := unexpected(t, err); e.Actual != http.StatusRequestEntityTooLarge || !strings.Contains(string(e.Body), `"overLimit"`) {
				t.Fatalf("create 4 (process 2): %d %s, want a 413 overLimit", e.Actual, e.Body)
			}
		}
	}
	var limits struct {
		Limits struct {
			Rate []struct {
				Limit []struct {
					Remaining int `json:"remaining"`
				} `json:"limit"`
			} `json:"rate"`
		} `json:"limits"`
	}
	if _, err := clients[0].Compute.Get(ctx, clients[0].Compute.ServiceURL("limits"), &limits, nil); err != nil {
		t.Fatal(err)
	}
	if r := limits.Limits.Rate; len(r) != 1 || len(r[0].Limit) != 1 || r[0].Limit[0].Remaining != 0 {
		t.Errorf("rate section on process 1 after both processes' use: %+v, want remaining 0", r)
	}
}
