package compute_test

import (
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute/computetest"
)

const keypairSamples = "nova/api_samples/os-keypairs/"

// keypairAPI is the compute API of a new cloud (Nova's default quota).
func keypairAPI(t *testing.T, database string) *apitest.Client {
	t.Helper()
	_, client := newCloud(t, database, computetest.Options{})
	return client
}

func TestKeypairSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := keypairAPI(t, database)
		for _, v := range []struct {
			version, dir       string
			token, query       string // who calls; the ?user_id= reads need for admin calls
			createStatus, gone int
		}{
			{"2.1", "", userToken, "", 200, 202},
			{"2.2", "v2.2/", userToken, "", 201, 204},
			{"2.10", "v2.10/", adminToken, "?user_id=fake", 201, 204},
		} {
			t.Run(v.version, func(t *testing.T) {
				cl := c.As(v.token, v.version)
				base := keypairSamples + v.dir
				gen := cl.Do("POST", "/v2.1/os-keypairs", apisamples.Load(t, base+"keypairs-post-req.json")).Expect(t, v.createStatus)
				apisamples.Assert(t, base+"keypairs-post-resp.json", gen.Body, apisamples.Options{})
				if !strings.Contains(string(gen.Body), "BEGIN RSA PRIVATE KEY") {
					t.Fatalf("generated key pair lacks its private key: %s", gen.Body)
				}
				imp := cl.Do("POST", "/v2.1/os-keypairs", apisamples.Load(t, base+"keypairs-import-post-req.json")).Expect(t, v.createStatus)
				apisamples.Assert(t, base+"keypairs-import-post-resp.json", imp.Body, apisamples.Options{})
				got := imp.JSON(t)["keypair"].(map[string]any)
				if got["fingerprint"] != "1e:2c:9b:56:79:4b:45:77:f9:ca:7a:98:2c:b0:d5:3c" {
					t.Fatalf("fingerprint = %v, want Nova's", got["fingerprint"])
				}
				if v.token == adminToken && got["user_id"] != "fake" {
					t.Fatalf("admin created for %v, want fake", got["user_id"])
				}
				list := cl.Do("GET", "/v2.1/os-keypairs"+v.query, nil).Expect(t, 200)
				apisamples.Assert(t, base+"keypairs-list-resp.json", list.Body, apisamples.Options{})
				if n := len(list.JSON(t)["keypairs"].([]any)); n != 2 {
					t.Fatalf("list has %d key pairs, want 2", n)
				}
				name := got["name"].(string)
				show := cl.Do("GET", "/v2.1/os-keypairs/"+name+v.query, nil).Expect(t, 200)
				apisamples.Assert(t, base+"keypairs-get-resp.json", show.Body, apisamples.Options{})
				for _, kp := range list.JSON(t)["keypairs"].([]any) {
					n := kp.(map[string]any)["keypair"].(map[string]any)["name"].(string)
					cl.Do("DELETE", "/v2.1/os-keypairs/"+n+v.query, nil).Expect(t, v.gone)
				}
				cl.Do("GET", "/v2.1/os-keypairs/"+name+v.query, nil).Expect(t, 404)
			})
		}
	})
}

func TestKeypairPagingSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := keypairAPI(t, database)
		base := keypairSamples + "v2.35/"
		admin := c.As(adminToken, "2.35")
		req := apisamples.Load(t, base+"keypairs-post-req.json").(map[string]any)
		gen := admin.Do("POST", "/v2.1/os-keypairs", req).Expect(t, 201)
		apisamples.Assert(t, base+"keypairs-post-resp.json", gen.Body, apisamples.Options{})
		create := func(user string, names ...string) {
			for _, name := range names {
				kp := map[string]any{"name": name}
				if user != "" {
					kp["user_id"] = user
				}
				admin.Do("POST", "/v2.1/os-keypairs", map[string]any{"keypair": kp}).Expect(t, 201)
			}
		}
		// The requests Nova's sample tests make, with their next links.
		create("", "k1", "k2", "k3")
		create("user1", "k1", "k2", "k3")
		create("user2", "k1", "k2", "k3")
		for _, tc := range []struct{ sample, query, next string }{
			{"keypairs-list-resp.json", "?marker=k2&limit=1", "?limit=1&marker=k3"},
			{"keypairs-list-user1-resp.json", "?user_id=user1&marker=k2", ""},
			{"keypairs-list-user2-resp.json", "?user_id=user2&marker=k2&limit=1", "?limit=1&marker=k3&user_id=user2"},
		} {
			page := admin.Do("GET", "/v2.1/os-keypairs"+tc.query, nil).Expect(t, 200)
			apisamples.Assert(t, base+tc.sample, page.Body, apisamples.Options{})
			body := page.JSON(t)
			items := body["keypairs"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["keypair"].(map[string]any)["name"] != "k3" {
				t.Fatalf("%s: keypairs = %v", tc.query, items)
			}
			links, _ := body["keypairs_links"].([]any)
			if tc.next == "" {
				if links != nil {
					t.Fatalf("%s: unexpected links %v", tc.query, links)
				}
				continue
			}
			href := links[0].(map[string]any)["href"].(string)
			if href != "http://example.com/v2.1/os-keypairs"+tc.next {
				t.Fatalf("%s: next link = %v", tc.query, href)
			}
			// The last full page still links on; that page is empty.
			after := admin.Do("GET", strings.TrimPrefix(href, "http://example.com"), nil).Expect(t, 200).JSON(t)
			if len(after["keypairs"].([]any)) != 0 || after["keypairs_links"] != nil {
				t.Fatalf("page after %s = %v", tc.query, after)
			}
		}
		// Without a limit, every key pair of the user, no link.
		all := admin.Do("GET", "/v2.1/os-keypairs?user_id=user2", nil).Expect(t, 200).JSON(t)
		if len(all["keypairs"].([]any)) != 3 || all["keypairs_links"] != nil {
			t.Fatalf("unpaged list = %v", all)
		}
	})
}

func TestKeypairV292Samples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := keypairAPI(t, database)
		base := keypairSamples + "v2.92/"
		admin := c.As(adminToken, "2.92")
		imp := admin.Do("POST", "/v2.1/os-keypairs", apisamples.Load(t, base+"keypairs-import-post-req.json")).Expect(t, 201)
		apisamples.Assert(t, base+"keypairs-import-post-resp.json", imp.Body, apisamples.Options{})
		if name := imp.JSON(t)["keypair"].(map[string]any)["name"]; name != "me.and.myself@this.nice.domain.com mooh." {
			t.Fatalf("name = %v", name)
		}
		// Generation is gone: public_key is required.
		gen := admin.Do("POST", "/v2.1/os-keypairs", apisamples.Load(t, base+"keypairs-post-req.json")).Expect(t, 400)
		if msg := faultMessage(t, gen); !strings.HasSuffix(msg, "'public_key' is a required property") {
			t.Fatalf("generate at 2.92: %q", msg)
		}
		show := admin.Do("GET", "/v2.1/os-keypairs/me.and.myself@this.nice.domain.com%20mooh.?user_id=fake", nil).Expect(t, 200)
		apisamples.Assert(t, keypairSamples+"v2.10/keypairs-get-resp.json", show.Body, apisamples.Options{})
	})
}
