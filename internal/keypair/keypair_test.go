package keypair_test

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/keypair"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"golang.org/x/crypto/ssh"
)

// Nova's api_samples import key and the fingerprint Nova reports for it.
const (
	sampleKey         = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lHBQdW5aYd44bd8JttDCE/F/pNRr0lRE+PiqSPO8nDPHw0010JeMH9gYgnnFlyY3/OcJ02RhIPyyxYpv9FhY+2YiUkpwFOcLImyrxEsYXpD/0d3ac30bNH6Sw9JD9UZHYcpSxsIbECHw== Generated-by-Nova"
	sampleFingerprint = "1e:2c:9b:56:79:4b:45:77:f9:ca:7a:98:2c:b0:d5:3c"
)

func ptr(s string) *string { return &s }

func TestFingerprint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, keyType, key, want, wantErr string
	}{
		{"nova sample", keypair.TypeSSH, sampleKey, sampleFingerprint, ""},
		{"trailing newline", keypair.TypeSSH, sampleKey + "\n", sampleFingerprint, ""},
		{"ed25519", keypair.TypeSSH, ed25519Key, ed25519Fingerprint, ""},
		{"no comment", keypair.TypeSSH, strings.TrimSuffix(sampleKey, " Generated-by-Nova"), sampleFingerprint, ""},
		{"garbage", keypair.TypeSSH, "ssh-rsa notbase64!", "", "Keypair data is invalid: failed to generate fingerprint"},
		{"one field", keypair.TypeSSH, "ssh-rsa", "", "Keypair data is invalid: failed to generate fingerprint"},
		{"type mismatch", keypair.TypeSSH, strings.Replace(sampleKey, "ssh-rsa", "ssh-ed25519", 1), "", "Keypair data is invalid: failed to generate fingerprint"},
		{"truncated", keypair.TypeSSH, sampleKey[:60], "", "Keypair data is invalid: failed to generate fingerprint"},
		{"x509 garbage", keypair.TypeX509, "not a cert", "", "Keypair data is invalid: failed to generate X509 fingerprint. Error message: Unable to load PEM file."},
		{"x509 ssh key", keypair.TypeX509, sampleKey, "", "Keypair data is invalid: failed to generate X509 fingerprint."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := keypair.Fingerprint(tc.keyType, tc.key)
			if tc.wantErr != "" {
				if !errs.Is(err, errs.KindInvalid) || !strings.HasPrefix(errs.Message(err), tc.wantErr) {
					t.Fatalf("error = %v, want 400 starting %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Fingerprint = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// ed25519Key was made by ssh-keygen, which printed ed25519Fingerprint
// for it with -E md5.
const (
	ed25519Key         = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICM7ARKIMyKoNag4yOKscTSRbGqI/qXHAkcUo50AhLm1 me@host"
	ed25519Fingerprint = "46:fc:ce:1d:86:fc:12:ae:55:87:ab:a4:35:18:72:30"
)

func TestCreateImportGetListDelete(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := keypair.New(db, keypair.Options{})
		kp, priv, err := svc.Create(ctx, keypair.CreateInput{UserID: "u1", ProjectID: "p1", Name: "imported", PublicKey: ptr(sampleKey)})
		if err != nil {
			t.Fatal(err)
		}
		if priv != "" || kp.Type != keypair.TypeSSH || kp.Fingerprint != sampleFingerprint || kp.ID == 0 || kp.CreatedAt.IsZero() {
			t.Fatalf("import = %+v, private %q", kp, priv)
		}
		got, err := svc.Get(ctx, "u1", "imported")
		if err != nil || got.PublicKey != sampleKey || got.ID != kp.ID || got.Fingerprint != sampleFingerprint {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		if _, err := svc.Get(ctx, "u2", "imported"); errs.Message(err) != "Keypair imported not found for user u2" {
			t.Fatalf("other user's Get = %v", err)
		}
		_, _, err = svc.Create(ctx, keypair.CreateInput{UserID: "u1", ProjectID: "p1", Name: "imported", PublicKey: ptr(sampleKey)})
		if !errs.Is(err, errs.KindConflict) || errs.Message(err) != "Key pair 'imported' already exists." {
			t.Fatalf("duplicate = %v", err)
		}
		// The same name is free for another user.
		if _, _, err := svc.Create(ctx, keypair.CreateInput{UserID: "u2", ProjectID: "p1", Name: "imported", PublicKey: ptr(sampleKey)}); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"c", "a", "b"} {
			if _, _, err := svc.Create(ctx, keypair.CreateInput{UserID: "u1", Name: n, PublicKey: ptr(ed25519Key)}); err != nil {
				t.Fatal(err)
			}
		}
		names := func(kps []*keypair.KeyPair) string {
			var s []string
			for _, k := range kps {
				s = append(s, k.Name)
			}
			return strings.Join(s, ",")
		}
		for _, tc := range []struct {
			limit  int
			marker *string
			want   string
		}{
			{-1, nil, "a,b,c,imported"},
			{2, nil, "a,b"},
			{2, ptr("b"), "c,imported"},
			{0, nil, ""},
			{-1, ptr("imported"), ""},
		} {
			got, err := svc.List(ctx, "u1", tc.limit, tc.marker)
			if err != nil || names(got) != tc.want {
				t.Errorf("List(%d, %v) = %q, %v; want %q", tc.limit, tc.marker, names(got), err, tc.want)
			}
		}
		if _, err := svc.List(ctx, "u1", -1, ptr("zzz")); !errs.Is(err, errs.KindInvalid) || errs.Message(err) != "Marker zzz could not be found." {
			t.Fatalf("bad marker = %v", err)
		}
		if err := svc.Delete(ctx, "u1", "a"); err != nil {
			t.Fatal(err)
		}
		if err := svc.Delete(ctx, "u1", "a"); !errs.Is(err, errs.KindNotFound) || errs.Message(err) != "Keypair a not found for user u1" {
			t.Fatalf("second delete = %v", err)
		}
		if n, err := svc.Count(ctx, "u1"); err != nil || n != 3 {
			t.Fatalf("Count = %d, %v", n, err)
		}
	})
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := keypair.New(db, keypair.Options{})
		kp, priv, err := svc.Create(ctx, keypair.CreateInput{UserID: "u1", Name: "gen"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(kp.PublicKey, "ssh-rsa ") || !strings.HasSuffix(kp.PublicKey, " Generated-by-Nova") {
			t.Fatalf("public key = %q", kp.PublicKey)
		}
		signer, err := ssh.ParsePrivateKey([]byte(priv))
		if err != nil {
			t.Fatalf("private key does not parse: %v", err)
		}
		if !strings.HasPrefix(priv, "-----BEGIN RSA PRIVATE KEY-----\n") {
			t.Fatalf("private key is not PKCS#1 PEM: %q", priv[:40])
		}
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(kp.PublicKey))
		if err != nil || string(pub.Marshal()) != string(signer.PublicKey().Marshal()) {
			t.Fatalf("public and private halves differ: %v", err)
		}
		if want, _ := keypair.Fingerprint(keypair.TypeSSH, kp.PublicKey); kp.Fingerprint != want || ssh.FingerprintLegacyMD5(pub) != want {
			t.Fatalf("fingerprint %q, want %q", kp.Fingerprint, want)
		}
		stored, err := svc.Get(ctx, "u1", "gen")
		if err != nil || strings.Contains(stored.PublicKey, "PRIVATE") {
			t.Fatalf("stored = %+v, %v", stored, err)
		}
	})
}

func TestX509(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := keypair.New(db, keypair.Options{})
		gen, priv, err := svc.Create(ctx, keypair.CreateInput{UserID: "u1", Name: "cert", Type: keypair.TypeX509})
		if err != nil {
			t.Fatal(err)
		}
		if priv == "" || gen.Type != keypair.TypeX509 {
			t.Fatalf("generated x509 = %+v, private %q", gen, priv)
		}
		block, _ := pem.Decode([]byte(gen.PublicKey))
		if block == nil {
			t.Fatalf("certificate is not PEM: %q", gen.PublicKey)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil || cert.Subject.CommonName != "u1" || len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
			t.Fatalf("certificate = %+v, %v", cert, err)
		}
		if upn := upnOf(t, cert); upn != "u1@localhost" {
			t.Fatalf("UPN = %q, want u1@localhost", upn)
		}
		// Importing the same certificate gives the same SHA-1 fingerprint.
		imp, _, err := svc.Create(ctx, keypair.CreateInput{UserID: "u1", Name: "cert2", Type: keypair.TypeX509, PublicKey: ptr(gen.PublicKey)})
		if err != nil || imp.Fingerprint != gen.Fingerprint || len(imp.Fingerprint) != 59 {
			t.Fatalf("import = %+v, %v; want fingerprint %s", imp, err, gen.Fingerprint)
		}
		_, _, err = svc.Create(ctx, keypair.CreateInput{UserID: "u1", Name: "bad", Type: keypair.TypeX509, PublicKey: ptr(sampleKey)})
		if !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("ssh key as x509 = %v", err)
		}
	})
}

func TestQuota(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		limits := map[string]int{"u1": 2, "u2": -1, "u3": 0}
		svc := keypair.New(db, keypair.Options{Limit: func(_ context.Context, project, user string) (int, error) {
			if project != "p1" {
				return 0, fmt.Errorf("unexpected project %q", project)
			}
			return limits[user], nil
		}})
		create := func(user, name string) error {
			_, _, err := svc.Create(ctx, keypair.CreateInput{UserID: user, ProjectID: "p1", Name: name, PublicKey: ptr(sampleKey)})
			return err
		}
		for _, tc := range []struct {
			user, name string
			kind       errs.Kind
		}{
			{"u1", "a", -1}, {"u1", "b", -1}, {"u1", "c", errs.KindOverQuota},
			// Over quota wins over a duplicate name, as in Nova.
			{"u1", "a", errs.KindOverQuota},
			{"u3", "a", errs.KindOverQuota},
		} {
			err := create(tc.user, tc.name)
			if tc.kind < 0 {
				if err != nil {
					t.Fatalf("%s/%s: %v", tc.user, tc.name, err)
				}
				continue
			}
			if !errs.Is(err, tc.kind) {
				t.Fatalf("%s/%s = %v, want kind %d", tc.user, tc.name, err, tc.kind)
			}
		}
		if err := create("u1", "c"); errs.Message(err) != "Quota exceeded, too many key pairs." {
			t.Fatalf("over quota message = %q", errs.Message(err))
		}
		for i := range 120 {
			if err := create("u2", fmt.Sprintf("k%03d", i)); err != nil {
				t.Fatalf("unlimited user: %v", err)
			}
		}
		// Nil Limit is Nova's default of 100.
		def := keypair.New(db, keypair.Options{})
		for i := range keypair.DefaultLimit {
			if _, _, err := def.Create(ctx, keypair.CreateInput{UserID: "u4", Name: fmt.Sprint(i), PublicKey: ptr(sampleKey)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := def.Create(ctx, keypair.CreateInput{UserID: "u4", Name: "one more", PublicKey: ptr(sampleKey)}); !errs.Is(err, errs.KindOverQuota) {
			t.Fatalf("101st key pair = %v", err)
		}
	})
}

// TestQuotaRace creates many key pairs at once: the count check and the
// insert share a transaction, so the limit holds exactly.
func TestQuotaRace(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const limit, workers = 5, 20
		svc := keypair.New(db, keypair.Options{Limit: func(context.Context, string, string) (int, error) { return limit, nil }})
		var wg sync.WaitGroup
		results := make(chan error, workers)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := svc.Create(ctx, keypair.CreateInput{UserID: "racer", Name: fmt.Sprintf("k%d", i), PublicKey: ptr(sampleKey)})
				results <- err
			}()
		}
		wg.Wait()
		close(results)
		ok, over := 0, 0
		for err := range results {
			switch {
			case err == nil:
				ok++
			case errs.Is(err, errs.KindOverQuota):
				over++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		n, err := svc.Count(ctx, "racer")
		if err != nil {
			t.Fatal(err)
		}
		if ok != limit || over != workers-limit || n != limit {
			t.Fatalf("created %d, refused %d, stored %d; want %d, %d, %d", ok, over, n, limit, workers-limit, limit)
		}
	})
}

// upnOf decodes the certificate's subjectAltName otherName UPN.
func upnOf(t *testing.T, cert *x509.Certificate) string {
	t.Helper()
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}) {
			continue
		}
		var names []asn1.RawValue
		if _, err := asn1.Unmarshal(ext.Value, &names); err != nil || len(names) != 1 {
			t.Fatalf("subjectAltName: %v, %d names", err, len(names))
		}
		if names[0].Class != asn1.ClassContextSpecific || names[0].Tag != 0 {
			t.Fatalf("name is not an otherName: %+v", names[0])
		}
		var oid asn1.ObjectIdentifier
		rest, err := asn1.Unmarshal(names[0].Bytes, &oid)
		if err != nil || !oid.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}) {
			t.Fatalf("otherName type %v: %v", oid, err)
		}
		var value string
		if _, err := asn1.UnmarshalWithParams(rest, &value, "explicit,tag:0,utf8"); err != nil {
			t.Fatalf("otherName value: %v", err)
		}
		return value
	}
	t.Fatal("no subjectAltName")
	return ""
}
