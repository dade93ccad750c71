package compute_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/quota"
)

const sampleSSHKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lHBQdW5aYd44bd8JttDCE/F/pNRr0lRE+PiqSPO8nDPHw0010JeMH9gYgnnFlyY3/OcJ02RhIPyyxYpv9FhY+2YiUkpwFOcLImyrxEsYXpD/0d3ac30bNH6Sw9JD9UZHYcpSxsIbECHw== Generated-by-Nova"

func importBody(fields map[string]any) map[string]any {
	kp := map[string]any{"name": "k", "public_key": sampleSSHKey}
	for k, v := range fields {
		if v == nil {
			delete(kp, k)
		} else {
			kp[k] = v
		}
	}
	return map[string]any{"keypair": kp}
}

func TestKeypairCreateValidation(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := keypairAPI(t, database)
		for _, tc := range []struct {
			name, version string
			body          any
			status        int
			message       string
		}{
			{"at sign before 2.92", "2.91", importBody(map[string]any{"name": "a@b"}), 400,
				`Invalid input for field/attribute name. Value: a@b. 'a@b' does not match '^[_\\- a-zA-Z0-9]+$'`},
			{"dot at 2.92", "2.92", importBody(map[string]any{"name": "a.b@c"}), 201, ""},
			{"slash at 2.92", "2.92", importBody(map[string]any{"name": "a/b"}), 400,
				`Invalid input for field/attribute name. Value: a/b. 'a/b' does not match '^[_\\-\\@\\. a-zA-Z0-9]+$'`},
			{"empty name", "2.1", importBody(map[string]any{"name": ""}), 400, "Invalid input for field/attribute name. Value: . '' is too short"},
			{"padded name", "2.1", importBody(map[string]any{"name": " k"}), 400,
				"An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
			{"long name", "2.1", importBody(map[string]any{"name": strings.Repeat("a", 256)}), 400, "is too long"},
			{"name not string", "2.1", importBody(map[string]any{"name": 1}), 400, "Invalid input for field/attribute name. Value: 1. 1 is not of type 'string'"},
			{"no name", "2.2", importBody(map[string]any{"name": nil}), 400, "'name' is a required property"},
			{"no keypair", "2.2", map[string]any{"kp": map[string]any{}}, 400, "'keypair' is a required property"},
			{"type before 2.2", "2.1", importBody(map[string]any{"type": "ssh"}), 400, "Additional properties are not allowed ('type' was unexpected)"},
			{"bad type", "2.2", importBody(map[string]any{"type": "rsa"}), 400,
				"Invalid input for field/attribute type. Value: rsa. 'rsa' is not one of ['ssh', 'x509']"},
			{"user_id before 2.10", "2.9", importBody(map[string]any{"user_id": "u1"}), 400, "Additional properties are not allowed ('user_id' was unexpected)"},
			{"public_key not string", "2.2", importBody(map[string]any{"public_key": 5}), 400, "5 is not of type 'string'"},
			{"no public key at 2.92", "2.92", importBody(map[string]any{"public_key": nil}), 400, "'public_key' is a required property"},
			{"bad ssh key", "2.2", importBody(map[string]any{"public_key": "ssh-rsa bogus"}), 400, "Keypair data is invalid: failed to generate fingerprint"},
			{"ssh key as x509", "2.2", importBody(map[string]any{"type": "x509"}), 400,
				"Keypair data is invalid: failed to generate X509 fingerprint. Error message: Unable to load PEM file."},
			{"other user's key", "2.10", importBody(map[string]any{"user_id": "u2"}), 403, "Policy doesn't allow os_compute_api:os-keypairs:create to be performed."},
			{"own user_id", "2.10", importBody(map[string]any{"name": "mine", "user_id": "u1"}), 201, ""},
			{"malformed", "2.1", "{", 400, "Malformed request body"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := c.As(userToken, tc.version).Do("POST", "/v2.1/os-keypairs", tc.body).Expect(t, tc.status)
				if tc.message != "" && !strings.HasPrefix(faultMessage(t, r), tc.message) && !strings.HasSuffix(faultMessage(t, r), tc.message) {
					t.Fatalf("message %q, want %q", faultMessage(t, r), tc.message)
				}
			})
		}
	})
}

func TestKeypairBehaviour(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := keypairAPI(t, database)
		user := c.As(userToken, "2.2")
		user.Do("POST", "/v2.1/os-keypairs", importBody(map[string]any{"name": "my key"})).Expect(t, 201)
		r := user.Do("POST", "/v2.1/os-keypairs", importBody(map[string]any{"name": "my key"})).Expect(t, 409)
		if msg := faultMessage(t, r); msg != "Key pair 'my key' already exists." {
			t.Fatalf("duplicate: %q", msg)
		}
		show := user.Do("GET", "/v2.1/os-keypairs/my%20key", nil).Expect(t, 200).JSON(t)["keypair"].(map[string]any)
		if show["user_id"] != "u1" || show["type"] != "ssh" || show["deleted"] != false || show["fingerprint"] != "1e:2c:9b:56:79:4b:45:77:f9:ca:7a:98:2c:b0:d5:3c" {
			t.Fatalf("show = %v", show)
		}
		if created, _ := show["created_at"].(string); len(created) != len("2014-05-07T12:06:13.681238") {
			t.Fatalf("created_at = %q", created)
		}
		r = user.Do("GET", "/v2.1/os-keypairs/nope", nil).Expect(t, 404)
		if msg := faultMessage(t, r); msg != "Keypair nope not found for user u1" {
			t.Fatalf("missing: %q", msg)
		}
		// Another user neither sees nor deletes it.
		other := c.As("u2:p1", "2.2")
		other.Do("GET", "/v2.1/os-keypairs/my%20key", nil).Expect(t, 404)
		other.Do("DELETE", "/v2.1/os-keypairs/my%20key", nil).Expect(t, 404)
		if kps := other.Do("GET", "/v2.1/os-keypairs", nil).Expect(t, 200).JSON(t)["keypairs"].([]any); len(kps) != 0 {
			t.Fatalf("u2 sees %v", kps)
		}

		// user_id: ignored before 2.10, admin only for other users from 2.10.
		admin29 := c.As(adminToken, "2.9")
		if kps := admin29.Do("GET", "/v2.1/os-keypairs?user_id=u1", nil).Expect(t, 200).JSON(t)["keypairs"].([]any); len(kps) != 0 {
			t.Fatalf("user_id honoured at 2.9: %v", kps)
		}
		admin210 := c.As(adminToken, "2.10")
		if kps := admin210.Do("GET", "/v2.1/os-keypairs?user_id=u1", nil).Expect(t, 200).JSON(t)["keypairs"].([]any); len(kps) != 1 {
			t.Fatalf("admin list of u1 = %v", kps)
		}
		admin210.Do("GET", "/v2.1/os-keypairs/my%20key?user_id=u1", nil).Expect(t, 200)
		for _, op := range []struct{ method, path, rule string }{
			{"GET", "/v2.1/os-keypairs?user_id=u1", "index"},
			{"GET", "/v2.1/os-keypairs/my%20key?user_id=u1", "show"},
			{"DELETE", "/v2.1/os-keypairs/my%20key?user_id=u1", "delete"},
		} {
			r := c.As("u2:p1", "2.10").Do(op.method, op.path, nil).Expect(t, 403)
			if msg := faultMessage(t, r); msg != "Policy doesn't allow os_compute_api:os-keypairs:"+op.rule+" to be performed." {
				t.Fatalf("%s %s: %q", op.method, op.path, msg)
			}
		}
		c.As(userToken, "2.10").Do("GET", "/v2.1/os-keypairs?user_id=u1", nil).Expect(t, 200)

		// Query validation: unknown parameters are dropped until 2.75.
		user235 := c.As(userToken, "2.35")
		for _, tc := range []struct {
			version, query string
			status         int
			message        string
		}{
			{"2.74", "?foo=1", 200, ""},
			{"2.75", "?foo=1", 400, "Additional properties are not allowed ('foo' was unexpected)"},
			{"2.35", "?limit=-1", 400, "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"},
			{"2.35", "?limit=", 400, "Invalid input for query parameters limit. Value: . '' is too short"},
			{"2.35", "?marker=zzz", 400, "Marker zzz could not be found."},
			{"2.34", "?marker=zzz&limit=-1", 200, ""},
		} {
			r := c.As(userToken, tc.version).Do("GET", "/v2.1/os-keypairs"+tc.query, nil).Expect(t, tc.status)
			if tc.message != "" && faultMessage(t, r) != tc.message {
				t.Fatalf("%s %s: %q, want %q", tc.version, tc.query, faultMessage(t, r), tc.message)
			}
		}
		c.As(userToken, "2.75").Do("GET", "/v2.1/os-keypairs/my%20key?foo=1", nil).Expect(t, 400)
		c.As(userToken, "2.74").Do("GET", "/v2.1/os-keypairs/my%20key?foo=1", nil).Expect(t, 200)
		empty := user235.Do("GET", "/v2.1/os-keypairs?limit=0", nil).Expect(t, 200).JSON(t)
		if len(empty["keypairs"].([]any)) != 0 || empty["keypairs_links"] != nil {
			t.Fatalf("limit=0 = %v", empty)
		}
		if l := user235.Do("GET", "/v2.1/os-keypairs?limit=99999999999999999999", nil).Expect(t, 200).JSON(t); len(l["keypairs"].([]any)) != 1 {
			t.Fatalf("huge limit = %v", l)
		}

		// Fields per microversion: no type before 2.2.
		old := c.As(userToken, "2.1").Do("GET", "/v2.1/os-keypairs", nil).Expect(t, 200).JSON(t)
		if _, has := old["keypairs"].([]any)[0].(map[string]any)["keypair"].(map[string]any)["type"]; has {
			t.Fatalf("type shown at 2.1: %v", old)
		}
		c.As(userToken, "2.1").Do("DELETE", "/v2.1/os-keypairs/my%20key", nil).Expect(t, 202)
	})
}

func TestKeypairLegacyV2(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := keypairAPI(t, database).As(userToken, "")
		// The v2.0 schema allows padded names (stripped) and drops unknown keys.
		r := c.Do("POST", "/v2/p1/os-keypairs", importBody(map[string]any{"name": "  old key  ", "type": "ssh", "extra": 1})).Expect(t, 200)
		kp := r.JSON(t)["keypair"].(map[string]any)
		if kp["name"] != "old key" {
			t.Fatalf("name = %v", kp["name"])
		}
		if _, has := kp["type"]; has {
			t.Fatalf("type in a v2 response: %v", kp)
		}
		r = c.Do("POST", "/v2/p1/os-keypairs", importBody(map[string]any{"name": "   "})).Expect(t, 400)
		if msg := faultMessage(t, r); msg != "An invalid 'name' value was provided. The name must be: printable characters with at least one non space character" {
			t.Fatalf("blank name: %q", msg)
		}
		c.Do("DELETE", "/v2/p1/os-keypairs/old%20key", nil).Expect(t, 202)
	})
}

func TestKeypairQuota(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cloud, client := newCloud(t, database, computetest.Options{})
		if _, err := cloud.App.Quotas.Set(context.Background(), "p1", "", []quota.Change{{Resource: quota.KeyPairs, Limit: 1}}, true); err != nil {
			t.Fatal(err)
		}
		c := client.As(userToken, "2.2")
		c.Do("POST", "/v2.1/os-keypairs", importBody(nil)).Expect(t, 201)
		over := c.Do("POST", "/v2.1/os-keypairs", importBody(map[string]any{"name": "second"})).Expect(t, 403)
		if _, ok := over.JSON(t)["forbidden"]; !ok || faultMessage(t, over) != "Quota exceeded, too many key pairs." {
			t.Fatalf("over quota: %s", over.Body)
		}
	})
}
