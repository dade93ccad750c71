package identity

import (
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// specExample is the signed request of the OAuth 1.0 specification's
// appendix A.5 (consumer secret kd94hf93k423kf44, token secret
// pfkkdhi9sl3r4s00), whose HMAC-SHA1 signature is published.
var specExample = OAuthRequest{Method: "GET", URL: "http://photos.example.net/photos", Query: "file=vacation.jpg&size=original",
	Authorization: `OAuth realm="http://photos.example.net/", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_token="nnch734d00sl2jdk", ` +
		`oauth_signature_method="HMAC-SHA1", oauth_signature="tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D", oauth_timestamp="1191242096", ` +
		`oauth_nonce="kllo9940pd9333jh", oauth_version="1.0"`}

func TestOAuthSignature(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                string
		change              func(r *OAuthRequest)
		consumer, tokenSecr string
		want                bool
	}{
		{"the specification's example", nil, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", true},
		{"host in capitals and the default port", func(r *OAuthRequest) { r.URL = "http://Photos.Example.NET:80/photos" }, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", true},
		{"another consumer secret", nil, "kd94hf93k423kf45", "pfkkdhi9sl3r4s00", false},
		{"another token secret", nil, "kd94hf93k423kf44", "", false},
		{"another path", func(r *OAuthRequest) { r.URL = "http://photos.example.net/photo" }, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", false},
		{"another port", func(r *OAuthRequest) { r.URL = "http://photos.example.net:8080/photos" }, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", false},
		{"another method", func(r *OAuthRequest) { r.Method = "POST" }, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", false},
		{"a query parameter changed", func(r *OAuthRequest) { r.Query = "file=vacation.jpg&size=small" }, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", false},
		{"a query parameter added", func(r *OAuthRequest) { r.Query += "&x=1" }, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", false},
		{"a protocol parameter changed", func(r *OAuthRequest) {
			r.Authorization = strings.Replace(r.Authorization, "1191242096", "1191242097", 1)
		}, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", false},
		{"the realm is not signed", func(r *OAuthRequest) {
			r.Authorization = strings.Replace(r.Authorization, `realm="http://photos.example.net/"`, `realm="elsewhere"`, 1)
		}, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", true},
		{"plaintext", func(r *OAuthRequest) {
			r.Authorization = strings.NewReplacer("HMAC-SHA1", "PLAINTEXT", "tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D", "kd94hf93k423kf44%26pfkkdhi9sl3r4s00").Replace(r.Authorization)
		}, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", true},
		{"plaintext with another secret", func(r *OAuthRequest) {
			r.Authorization = strings.NewReplacer("HMAC-SHA1", "PLAINTEXT", "tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D", "kd94hf93k423kf44%26pfkkdhi9sl3r4s00").Replace(r.Authorization)
		}, "kd94hf93k423kf44", "x", false},
		{"an RSA signature, for which there is no key", func(r *OAuthRequest) {
			r.Authorization = strings.Replace(r.Authorization, "HMAC-SHA1", "RSA-SHA1", 1)
		}, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", false},
	}
	for _, tc := range cases {
		r := specExample
		if tc.change != nil {
			tc.change(&r)
		}
		sr, err := parseOAuth(r)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := sr.verify(tc.consumer, tc.tokenSecr); got != tc.want {
			t.Errorf("%s: verify = %v, want %v (base string %s)", tc.name, got, tc.want, sr.baseString())
		}
	}
}

// TestOAuthSignaturesOfOauthlib verifies requests signed by oauthlib
// 3.2.2's Client (the library Keystone verifies with): each method, a host
// in capitals with its default port, a query, secrets that need escaping.
func TestOAuthSignaturesOfOauthlib(t *testing.T) {
	t.Parallel()
	const common = `OAuth oauth_nonce="0123456789abcdef", oauth_timestamp="1700000000", oauth_version="1.0", `
	cases := []struct {
		name, url, query, auth string
		consumerSecret         string
		tokenSecret            string
	}{
		{"HMAC-SHA1", "http://Example.COM:80/identity/v3/OS-OAUTH1/access_token", "", common +
			`oauth_signature_method="HMAC-SHA1", oauth_consumer_key="bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", oauth_token="cccccccccccccccccccccccccccccccc", ` +
			`oauth_verifier="Ab3dEf7h", oauth_signature="NysnD%2Fy7XT1Vmq634GUQoy9DxPc%3D"`, "s3cr&t=x", "t0k secret"},
		{"HMAC-SHA256", "https://kumo.example:8443/identity/v3/auth/tokens", "nocatalog=&x=a%20b", common +
			`oauth_signature_method="HMAC-SHA256", oauth_consumer_key="dddddddddddddddddddddddddddddddd", oauth_token="eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", ` +
			`oauth_signature="HxeGf%2BIZUlmHh5DdQpNItypmj2O%2F4b84qb%2Bj2iXilvE%3D"`, "cs", "ts"},
		{"HMAC-SHA512", "http://127.0.0.1:5000/identity/v3/OS-OAUTH1/request_token", "", common +
			`oauth_signature_method="HMAC-SHA512", oauth_consumer_key="ffffffffffffffffffffffffffffffff", oauth_callback="oob", ` +
			`oauth_signature="FGvDBfUB06%2FsTkaDq8MH8HxLawHRd6Zl%2FVVkpmjXW69lI6yRpEDUJrjq3sS9Xe52mtUs8BPiAXbfaV58UK1RiA%3D%3D"`, "cs~1", ""},
		{"PLAINTEXT", "http://127.0.0.1:5000/identity/v3/OS-OAUTH1/request_token", "", common +
			`oauth_signature_method="PLAINTEXT", oauth_consumer_key="ffffffffffffffffffffffffffffffff", oauth_callback="oob", ` +
			`oauth_signature="a%2520b%2526c%26"`, "a b&c", ""},
	}
	for _, tc := range cases {
		sr, err := parseOAuth(OAuthRequest{Method: "POST", URL: tc.url, Query: tc.query, Authorization: tc.auth})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := sr.checkProtocol(time.Unix(1700000000, 0)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !sr.verify(tc.consumerSecret, tc.tokenSecret) {
			t.Errorf("%s: signature refused (base string %s)", tc.name, sr.baseString())
		}
		if sr.verify(tc.consumerSecret+"x", tc.tokenSecret) {
			t.Errorf("%s: signature accepted with another secret", tc.name)
		}
	}
}

// TestOAuthBaseString checks the encoding of parameters with RFC 5849's
// example of section 3.4.1 (its body parameters left out: Keystone signs
// no body).
func TestOAuthBaseString(t *testing.T) {
	t.Parallel()
	sr, err := parseOAuth(OAuthRequest{Method: "post", URL: "http://example.com/request", Query: "b5=%3D%253D&a3=a&c%40=&a2=r%20b",
		Authorization: `OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", ` +
			`oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"`})
	if err != nil {
		t.Fatal(err)
	}
	want := "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26" +
		"oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26" +
		"oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
	if got := sr.baseString(); got != want {
		t.Errorf("base string\n got %s\nwant %s", got, want)
	}
}

// TestOAuthProtocolChecks follows oauthlib's checks of the protocol
// parameters, worded as Keystone answers them.
func TestOAuthProtocolChecks(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	good := map[string]string{"oauth_consumer_key": strings.Repeat("ab", 16), "oauth_nonce": "0123", "oauth_timestamp": "1700000000",
		"oauth_signature_method": "HMAC-SHA1", "oauth_signature": "x", "oauth_version": "1.0"}
	header := func(change map[string]string) string {
		var parts []string
		for _, k := range []string{"oauth_consumer_key", "oauth_nonce", "oauth_timestamp", "oauth_signature_method", "oauth_signature", "oauth_version"} {
			v, ok := change[k]
			if !ok {
				v = good[k]
			}
			if v != "-" {
				parts = append(parts, fmt.Sprintf("%s=%q", k, v))
			}
		}
		return "OAuth " + strings.Join(parts, ", ")
	}
	cases := []struct {
		name  string
		auth  string
		query string
		want  string // "" for none
	}{
		{"valid", header(nil), "", ""},
		{"no header", "", "", "No Authorization headers found"},
		{"another scheme", "Basic YTpi", "", "No Authorization headers found"},
		{"a duplicate", header(nil) + `, oauth_nonce="1"`, "", "Duplicate OAuth1 entries."},
		{"protocol parameters in the query too", header(nil), "oauth_token=x", "must come from only 1 signaturetype"},
		{"no signature", header(map[string]string{"oauth_signature": "-"}), "", "invalid_request, detail message is: Missing mandatory OAuth parameters.."},
		{"no nonce", header(map[string]string{"oauth_nonce": "-"}), "", "Missing mandatory OAuth parameters."},
		{"an unknown method", header(map[string]string{"oauth_signature_method": "MD5"}), "", "invalid_signature_method, detail message is: Invalid signature, MD5 not in ('HMAC-SHA1', "},
		{"version 2", header(map[string]string{"oauth_version": "2.0"}), "", "Invalid OAuth version."},
		{"no version", header(map[string]string{"oauth_version": "-"}), "", ""},
		{"a short timestamp", header(map[string]string{"oauth_timestamp": "170000000"}), "", "Invalid timestamp size"},
		{"a timestamp that is no number", header(map[string]string{"oauth_timestamp": "17000000x0"}), "", "Timestamp must be an integer."},
		{"an old timestamp", header(map[string]string{"oauth_timestamp": "1699999399"}), "", "differ from allowed by over 600 seconds."},
		{"a timestamp ahead", header(map[string]string{"oauth_timestamp": "1700000601"}), "", "differ from allowed by over 600 seconds."},
		{"a timestamp almost too old", header(map[string]string{"oauth_timestamp": "1699999400"}), "", ""},
		{"a short consumer key", header(map[string]string{"oauth_consumer_key": "abc"}), "", "Invalid client key format."},
		{"a consumer key in capitals", header(map[string]string{"oauth_consumer_key": strings.Repeat("AB", 16)}), "", "Invalid client key format."},
		{"a nonce that is not hex", header(map[string]string{"oauth_nonce": "xyz"}), "", "Invalid nonce format."},
	}
	for _, tc := range cases {
		sr, err := parseOAuth(OAuthRequest{Method: "POST", URL: "http://h/v3", Authorization: tc.auth, Query: tc.query})
		if err == nil {
			err = sr.checkProtocol(now)
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want none", tc.name, err)
		case tc.want != "" && (!errs.Is(err, errs.KindInvalid) || !strings.Contains(errs.Message(err), tc.want)):
			t.Errorf("%s: %v, want 400 with %q", tc.name, err, tc.want)
		}
	}
}

// oauthClient signs requests as an OAuth1 client does, with HMAC-SHA256
// or HMAC-SHA1 (the API tests sign with gophercloud).
type oauthClient struct {
	consumer, consumerSecret string
	token, tokenSecret       string
	sha256                   bool
}

// sign signs a POST to url at time now with the protocol parameters and
// extra ones (name, value pairs).
func (c oauthClient) sign(url string, now time.Time, extra ...string) OAuthRequest {
	method := "HMAC-SHA1"
	if c.sha256 {
		method = "HMAC-SHA256"
	}
	params := []string{"oauth_consumer_key", c.consumer, "oauth_nonce", "5f3e", "oauth_signature_method", method,
		"oauth_timestamp", fmt.Sprint(now.Unix()), "oauth_version", "1.0"}
	if c.token != "" {
		params = append(params, "oauth_token", c.token)
	}
	params = append(params, extra...)
	var parts []string
	for i := 0; i < len(params); i += 2 {
		parts = append(parts, fmt.Sprintf(`%s="%s"`, params[i], oauthEscape(params[i+1])))
	}
	r := OAuthRequest{Method: "POST", URL: url, Authorization: "OAuth " + strings.Join(parts, ", ")}
	sr, err := parseOAuth(r)
	if err != nil {
		panic(err)
	}
	key := oauthEscape(c.consumerSecret) + "&" + oauthEscape(c.tokenSecret)
	sig := sr.hmac(sha1.New, key)
	if c.sha256 {
		sig = sr.hmac(sha256.New, key)
	}
	r.Authorization += `, oauth_signature="` + oauthEscape(sig) + `"`
	return r
}

// sentTo is r sent to url, whatever URL its client signed.
func sentTo(r OAuthRequest, url string) OAuthRequest {
	r.URL = url
	return r
}

const (
	requestTokenURL = "http://kumo.test/identity/v3/OS-OAUTH1/request_token"
	accessTokenURL  = "http://kumo.test/identity/v3/OS-OAUTH1/access_token"
	authTokensURL   = "http://kumo.test/identity/v3/auth/tokens"
)

// oauthSetup is a consumer and a user, alice, holding member and reader
// on project p.
type oauthSetup struct {
	*fixture
	consumer *Consumer
	alice    *User
	p        *Project
}

func newOAuthSetup(t *testing.T, db *store.DB) *oauthSetup {
	f := newFixture(t, db)
	s := &oauthSetup{fixture: f, alice: f.user(t, "alice", "pw"), p: f.project(t, "p")}
	f.grant(t, s.p.ID, s.alice.ID, "member")
	f.grant(t, s.p.ID, s.alice.ID, "reader")
	var err error
	if s.consumer, err = f.svc.CreateConsumer(f.ctx, Consumer{}); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *oauthSetup) client() oauthClient {
	return oauthClient{consumer: s.consumer.ID, consumerSecret: s.consumer.Secret}
}

// authorized is a request token of p authorized by alice with member,
// and its verifier.
func (s *oauthSetup) authorized(t *testing.T) (*OAuthCredential, string) {
	t.Helper()
	rt, err := s.svc.CreateRequestToken(s.ctx, s.client().sign(requestTokenURL, s.now, "oauth_callback", "oob"), s.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.svc.AuthorizeRequestToken(s.ctx, rt.Key, s.alice.ID, []TrustRoleRef{{ID: s.roleID(t, "member")}})
	if err != nil {
		t.Fatal(err)
	}
	return rt, v
}

func TestOAuth1Flow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newOAuthSetup(t, db)
		rt, err := s.svc.CreateRequestToken(s.ctx, s.client().sign(requestTokenURL, s.now, "oauth_callback", "oob"), s.p.ID)
		if err != nil || !hex32.MatchString(rt.Key) || !hex32.MatchString(rt.Secret) || !rt.ExpiresAt.Equal(s.now.Add(8*time.Hour)) {
			t.Fatalf("request token %+v, %v", rt, err)
		}
		var sealed string
		if err := db.QueryRowContext(s.ctx, `SELECT sealed_secret FROM oauth1_request_tokens WHERE id = ?`, rt.Key).Scan(&sealed); err != nil || strings.Contains(sealed, rt.Secret) {
			t.Errorf("request token secret stored as %q, %v", sealed, err)
		}

		// alice may only give roles she holds on the project; by name too.
		_, err = s.svc.AuthorizeRequestToken(s.ctx, rt.Key, s.alice.ID, []TrustRoleRef{{Name: "admin"}})
		if !errs.Is(err, errs.KindUnauthorized) || errs.Message(err) != "authorizing user does not have role required" {
			t.Errorf("authorize with admin: %v", err)
		}
		_, err = s.svc.AuthorizeRequestToken(s.ctx, rt.Key, s.alice.ID, []TrustRoleRef{{Name: "nosuch"}})
		wantKind(t, err, errs.KindNotFound)
		v, err := s.svc.AuthorizeRequestToken(s.ctx, rt.Key, s.alice.ID, []TrustRoleRef{{Name: "member"}})
		if err != nil || len(v) != 8 || strings.Trim(v, verifierChars) != "" {
			t.Fatalf("verifier %q, %v", v, err)
		}

		c := s.client()
		c.token, c.tokenSecret = rt.Key, rt.Secret
		at, err := s.svc.CreateAccessToken(s.ctx, c.sign(accessTokenURL, s.now, "oauth_verifier", v))
		if err != nil || !hex32.MatchString(at.Key) || !at.ExpiresAt.Equal(s.now.Add(24*time.Hour)) {
			t.Fatalf("access token %+v, %v", at, err)
		}
		// The request token is used up.
		_, err = s.svc.CreateAccessToken(s.ctx, c.sign(accessTokenURL, s.now, "oauth_verifier", v))
		wantKind(t, err, errs.KindNotFound)

		got, err := s.svc.GetAccessToken(s.ctx, at.Key)
		if err != nil || got.ConsumerID != s.consumer.ID || got.AuthorizingUserID != s.alice.ID || got.ProjectID != s.p.ID ||
			len(got.RoleIDs) != 1 || got.RoleIDs[0] != s.roleID(t, "member") {
			t.Fatalf("GetAccessToken = %+v, %v", got, err)
		}
		if list, err := s.svc.ListAccessTokens(s.ctx, s.alice.ID); err != nil || len(list) != 1 || list[0].ID != at.Key {
			t.Errorf("ListAccessTokens = %+v, %v", list, err)
		}

		c.token, c.tokenSecret, c.sha256 = at.Key, at.Secret, true
		tok, err := s.svc.IssueToken(s.ctx, AuthRequest{Methods: []string{"oauth1"}, OAuth1: ptr(c.sign(authTokensURL, s.now))})
		if err != nil {
			t.Fatal(err)
		}
		// The access token's member role and reader, which it implies.
		if tok.UserID != s.alice.ID || tok.ProjectID != s.p.ID || !slices.Equal(roleNames(tok.Roles), []string{"member", "reader"}) ||
			tok.OAuth1 == nil || tok.OAuth1.AccessTokenID != at.Key || tok.OAuth1.ConsumerID != s.consumer.ID || tok.Methods[0] != "oauth1" {
			t.Fatalf("token %+v", tok)
		}
		v2, err := s.svc.ValidateToken(s.ctx, tok.ID)
		if err != nil || len(v2.Roles) != 2 || v2.OAuth1 == nil || v2.OAuth1.AccessTokenID != at.Key {
			t.Errorf("validated %+v, %v", v2, err)
		}
		if p, err := s.svc.Authenticate(s.ctx, tok.ID); err != nil || !p.Delegated {
			t.Errorf("principal %+v, %v", p, err)
		}
		_, err = s.svc.IssueToken(s.ctx, AuthRequest{Methods: []string{"token"}, Token: tok.ID})
		wantKind(t, err, errs.KindForbidden)

		// Revoking the access token ends the token.
		if err := s.svc.DeleteAccessToken(s.ctx, s.fixture.user(t, "bob", "pw").ID, at.Key); !errs.Is(err, errs.KindUnauthorized) {
			t.Errorf("delete by another user: %v", err)
		}
		if err := s.svc.DeleteAccessToken(s.ctx, s.alice.ID, at.Key); err != nil {
			t.Fatal(err)
		}
		_, err = s.svc.ValidateToken(s.ctx, tok.ID)
		wantKind(t, err, errs.KindNotFound)
		_, err = s.svc.Authenticate(s.ctx, tok.ID)
		wantKind(t, err, errs.KindUnauthorized)
	})
}

// TestOAuth1TokenLosesRoles: a token carries the access token's roles the
// user still holds, and dies with the last of them.
func TestOAuth1TokenLosesRoles(t *testing.T) {
	t.Parallel()
	s := newOAuthSetup(t, storetest.SQLite(t))
	rt, v := s.authorized(t)
	c := s.client()
	c.token, c.tokenSecret = rt.Key, rt.Secret
	at, err := s.svc.CreateAccessToken(s.ctx, c.sign(accessTokenURL, s.now, "oauth_verifier", v))
	if err != nil {
		t.Fatal(err)
	}
	c.token, c.tokenSecret = at.Key, at.Secret
	tok, err := s.svc.IssueToken(s.ctx, AuthRequest{Methods: []string{"oauth1"}, OAuth1: ptr(c.sign(authTokensURL, s.now))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.svc.RevokeGrant(s.ctx, Target{Project: s.p.ID}, s.alice.ID, s.roleID(t, "member")); err != nil {
		t.Fatal(err)
	}
	// member implies reader, which alice also holds by itself: the token
	// keeps that one.
	kept, err := s.svc.ValidateToken(s.ctx, tok.ID)
	if err != nil || len(kept.Roles) != 1 || kept.Roles[0].Name != "reader" {
		t.Fatalf("token after member's revocation: %+v %v, want reader only", kept, err)
	}
	if err := s.svc.RevokeGrant(s.ctx, Target{Project: s.p.ID}, s.alice.ID, s.roleID(t, "reader")); err != nil {
		t.Fatal(err)
	}
	_, err = s.svc.ValidateToken(s.ctx, tok.ID)
	wantKind(t, err, errs.KindNotFound)
	_, err = s.svc.IssueToken(s.ctx, AuthRequest{Methods: []string{"oauth1"}, OAuth1: ptr(c.sign(authTokensURL, s.now))})
	wantKind(t, err, errs.KindUnauthorized)
}

func TestOAuth1Refusals(t *testing.T) {
	t.Parallel()
	s := newOAuthSetup(t, storetest.SQLite(t))
	other, err := s.svc.CreateConsumer(s.ctx, Consumer{})
	if err != nil {
		t.Fatal(err)
	}
	rt, v := s.authorized(t)
	unauthorized, err := s.svc.CreateRequestToken(s.ctx, s.client().sign(requestTokenURL, s.now, "oauth_callback", "oob"), s.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	withToken := func(c oauthClient, key, secret string) oauthClient {
		c.token, c.tokenSecret = key, secret
		return c
	}
	good := withToken(s.client(), rt.Key, rt.Secret)
	otherConsumer := withToken(oauthClient{consumer: other.ID, consumerSecret: other.Secret}, rt.Key, rt.Secret)
	unknownConsumer := withToken(oauthClient{consumer: strings.Repeat("0", 32), consumerSecret: "x"}, rt.Key, rt.Secret)
	wrongVerifier := "abcdefgh"
	if v == wrongVerifier {
		wrongVerifier = "bcdefghk"
	}
	later := s.now.Add(RequestTokenDuration)

	requestTokenCases := []struct {
		name    string
		req     OAuthRequest
		project string
		kind    errs.Kind
		msg     string
	}{
		{"no project", s.client().sign(requestTokenURL, s.now, "oauth_callback", "oob"), "", errs.KindInvalid, "Expecting to find Requested-Project-Id in request."},
		{"an unknown project", s.client().sign(requestTokenURL, s.now, "oauth_callback", "oob"), "nosuch", errs.KindNotFound, "Could not find project: nosuch."},
		{"an unknown consumer", unknownConsumer.sign(requestTokenURL, s.now, "oauth_callback", "oob"), s.p.ID, errs.KindNotFound, "Consumer not found"},
		{"no callback", s.client().sign(requestTokenURL, s.now), s.p.ID, errs.KindInvalid, "Missing callback URI."},
		{"signed for another URL", sentTo(s.client().sign(accessTokenURL, s.now, "oauth_callback", "oob"), requestTokenURL), s.p.ID, errs.KindUnauthorized, "Invalid signature"},
		{"signed with another secret", oauthClient{consumer: s.consumer.ID, consumerSecret: other.Secret}.sign(requestTokenURL, s.now, "oauth_callback", "oob"), s.p.ID, errs.KindUnauthorized, "Invalid signature"},
		{"an old timestamp", s.client().sign(requestTokenURL, s.now.Add(-time.Hour), "oauth_callback", "oob"), s.p.ID, errs.KindInvalid, "Timestamp given is invalid"},
	}
	for _, tc := range requestTokenCases {
		_, err := s.svc.CreateRequestToken(s.ctx, tc.req, tc.project)
		if !errs.Is(err, tc.kind) || !strings.Contains(errs.Message(err), tc.msg) {
			t.Errorf("request token, %s: %v, want kind %d with %q", tc.name, err, tc.kind, tc.msg)
		}
	}

	accessTokenCases := []struct {
		name string
		req  OAuthRequest
		kind errs.Kind
		msg  string
	}{
		{"no verifier", good.sign(accessTokenURL, s.now), errs.KindInvalid, "Expecting to find oauth_verifier in request."},
		{"an unknown request token", withToken(s.client(), strings.Repeat("1", 32), "x").sign(accessTokenURL, s.now, "oauth_verifier", v), errs.KindNotFound, "Request token not found"},
		{"a verifier of another shape", good.sign(accessTokenURL, s.now, "oauth_verifier", "abcdefgi"), errs.KindInvalid, "Invalid verifier format."},
		{"an unknown consumer", unknownConsumer.sign(accessTokenURL, s.now, "oauth_verifier", v), errs.KindUnauthorized, "Provided consumer does not exist."},
		{"another consumer", otherConsumer.sign(accessTokenURL, s.now, "oauth_verifier", v), errs.KindUnauthorized, "Provided consumer key does not match stored consumer key."},
		{"another verifier", good.sign(accessTokenURL, s.now, "oauth_verifier", wrongVerifier), errs.KindUnauthorized, "Provided verifier does not match stored verifier"},
		{"an unauthorized request token", withToken(s.client(), unauthorized.Key, unauthorized.Secret).sign(accessTokenURL, s.now, "oauth_verifier", v), errs.KindUnauthorized, "Provided verifier does not match stored verifier"},
		{"another token secret", withToken(s.client(), rt.Key, "x").sign(accessTokenURL, s.now, "oauth_verifier", v), errs.KindUnauthorized, "Invalid signature"},
		{"an expired request token", good.sign(accessTokenURL, later, "oauth_verifier", v), errs.KindUnauthorized, "Request token is expired"},
	}
	for _, tc := range accessTokenCases {
		if strings.Contains(tc.name, "expired") {
			s.now = later
		}
		_, err := s.svc.CreateAccessToken(s.ctx, tc.req)
		if !errs.Is(err, tc.kind) || !strings.Contains(errs.Message(err), tc.msg) {
			t.Errorf("access token, %s: %v, want kind %d with %q", tc.name, err, tc.kind, tc.msg)
		}
	}
}

func TestOAuth1AuthRefusals(t *testing.T) {
	t.Parallel()
	s := newOAuthSetup(t, storetest.SQLite(t))
	other, err := s.svc.CreateConsumer(s.ctx, Consumer{})
	if err != nil {
		t.Fatal(err)
	}
	rt, v := s.authorized(t)
	c := s.client()
	c.token, c.tokenSecret = rt.Key, rt.Secret
	at, err := s.svc.CreateAccessToken(s.ctx, c.sign(accessTokenURL, s.now, "oauth_verifier", v))
	if err != nil {
		t.Fatal(err)
	}
	good := oauthClient{consumer: s.consumer.ID, consumerSecret: s.consumer.Secret, token: at.Key, tokenSecret: at.Secret}
	cases := []struct {
		name    string
		methods []string
		client  oauthClient
		url     string
		kind    errs.Kind
		msg     string
	}{
		{"with another method", []string{"oauth1", "password"}, good, authTokensURL, errs.KindUnauthorized, "unsupported method"},
		{"no access token", nil, oauthClient{consumer: s.consumer.ID, consumerSecret: s.consumer.Secret}, authTokensURL, errs.KindInvalid, "Expecting to find oauth_token in request."},
		{"an unknown access token", nil, oauthClient{consumer: s.consumer.ID, consumerSecret: s.consumer.Secret, token: strings.Repeat("2", 32)}, authTokensURL, errs.KindNotFound, "Access token not found"},
		{"signed for another URL", nil, good, accessTokenURL, errs.KindUnauthorized, "Could not validate the access token"},
		{"another token secret", nil, oauthClient{consumer: s.consumer.ID, consumerSecret: s.consumer.Secret, token: at.Key, tokenSecret: "x"}, authTokensURL, errs.KindUnauthorized, "Could not validate the access token"},
		{"another consumer", nil, oauthClient{consumer: other.ID, consumerSecret: other.Secret, token: at.Key, tokenSecret: at.Secret}, authTokensURL, errs.KindUnauthorized, "Could not validate the access token"},
		{"the request token", nil, c, authTokensURL, errs.KindNotFound, "Access token not found"},
		{"good", nil, good, authTokensURL, 0, ""},
	}
	for _, tc := range cases {
		methods := tc.methods
		if methods == nil {
			methods = []string{"oauth1"}
		}
		// The request goes to the token URL, whatever URL was signed.
		req := sentTo(tc.client.sign(tc.url, s.now), authTokensURL)
		_, err := s.svc.IssueToken(s.ctx, AuthRequest{Methods: methods, OAuth1: &req})
		switch {
		case tc.msg == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.msg != "" && (!errs.Is(err, tc.kind) || !strings.Contains(errs.Message(err), tc.msg)):
			t.Errorf("%s: %v, want kind %d with %q", tc.name, err, tc.kind, tc.msg)
		}
	}
	// An expired access token.
	s.now = s.now.Add(AccessTokenDuration)
	_, err = s.svc.IssueToken(s.ctx, AuthRequest{Methods: []string{"oauth1"}, OAuth1: ptr(good.sign(authTokensURL, s.now))})
	if !errs.Is(err, errs.KindUnauthorized) || errs.Message(err) != "Access token is expired" {
		t.Errorf("expired: %v", err)
	}
	// Deleting the consumer deletes its access tokens.
	s.now = s.now.Add(-AccessTokenDuration)
	if err := s.svc.DeleteConsumer(s.ctx, s.consumer.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.svc.GetAccessToken(s.ctx, at.Key)
	wantKind(t, err, errs.KindNotFound)
}
