package compute_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

func TestServerPassword(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		db := sc.DB
		srv := sc.boot(t, sc.user, "pw", true, nil)
		cl := sc.api.As(userToken, "2.1")
		path := "/v2.1/servers/" + srv.ID + "/os-server-password"
		if got := cl.Do("GET", path, nil).Expect(t, 200).JSON(t)["password"]; got != "" {
			t.Fatalf("password before a guest posted one: %q", got)
		}

		// What the metadata service stores when a guest posts its
		// encrypted password: 255-character chunks in password_0..3.
		posted := strings.Repeat("a", 255) + "tail=="
		sysmeta := map[string]string{}
		for k, v := range srv.SystemMetadata {
			sysmeta[k] = v
		}
		sysmeta["password_0"], sysmeta["password_1"], sysmeta["password_2"], sysmeta["password_3"] = posted[:255], posted[255:], "", ""
		b, _ := json.Marshal(sysmeta)
		if _, err := db.ExecContext(context.Background(), `UPDATE instances SET system_metadata = ? WHERE id = ?`, string(b), srv.ID); err != nil {
			t.Fatal(err)
		}
		r := cl.Do("GET", path, nil).Expect(t, 200)
		apisamples.Assert(t, "nova/api_samples/os-server-password/get-password-resp.json", r.Body, apisamples.Options{})
		if got := r.JSON(t)["password"]; got != posted {
			t.Fatalf("password %q, want %q", got, posted)
		}
		cl.Do("DELETE", path, nil).Expect(t, 204)
		if got := cl.Do("GET", path, nil).Expect(t, 200).JSON(t)["password"]; got != "" {
			t.Fatalf("password after clear: %q", got)
		}

		sc.api.As("u2:p2", "2.1").Do("GET", path, nil).Expect(t, 404)
		sc.api.As("u2:p2", "2.1").Do("DELETE", path, nil).Expect(t, 404)
		sc.api.As("reader:p1", "2.1").Do("GET", path, nil).Expect(t, 200)
		sc.api.As("reader:p1", "2.1").Do("DELETE", path, nil).Expect(t, 403)
		cl.Do("GET", "/v2.1/servers/00000000-0000-0000-0000-000000000000/os-server-password", nil).Expect(t, 404)
	})
}
