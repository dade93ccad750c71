package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"golang.org/x/crypto/ssh"
)

// sshKeygen makes an ed25519 key pair with ssh-keygen and returns the
// public and private key files.
func sshKeygen(t *testing.T, comment string) (pub, priv string) {
	t.Helper()
	priv = filepath.Join(t.TempDir(), "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", priv).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return priv + ".pub", priv
}

// sshFingerprint is the MD5 fingerprint ssh-keygen computes for a public
// or private key file, in Nova's form (aa:bb:...).
func sshFingerprint(t *testing.T, file string) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-l", "-E", "md5", "-f", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -l %s: %v\n%s", file, err, out)
	}
	fields := strings.Fields(string(out))
	if len(fields) < 2 || !strings.HasPrefix(fields[1], "MD5:") {
		t.Fatalf("ssh-keygen -l printed %q", out)
	}
	return strings.TrimPrefix(fields[1], "MD5:")
}

// sshPublicFromPrivate is the "type base64" public key ssh-keygen derives
// from a private key file.
func sshPublicFromPrivate(t *testing.T, priv string) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-y", "-f", priv).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -y %s (is it a valid private key?): %v\n%s", priv, err, out)
	}
	return keyBody(string(out))
}

// keyBody is the "type base64" part of an authorized_keys line.
func keyBody(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return line
	}
	return f[0] + " " + f[1]
}

func TestKeypairsCLI(t *testing.T) {
	t.Parallel()
	_, cli := startAdmin(t)
	privFile := filepath.Join(t.TempDir(), "generated.pem")
	pub, _ := sshKeygen(t, "imported")
	pubLine, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("create generated", func(t *testing.T) {
		var kp obj
		cli.JSON(t, &kp, "keypair", "create", "--private-key", privFile, "generated")
		if kp.str(t, "name") != "generated" || kp.str(t, "type") != "ssh" {
			t.Errorf("keypair create printed %v", kp)
		}
		if err := os.Chmod(privFile, 0o600); err != nil { // ssh-keygen refuses readable keys
			t.Fatal(err)
		}
		if got, want := kp.str(t, "fingerprint"), sshFingerprint(t, privFile); got != want {
			t.Errorf("fingerprint %s, ssh-keygen says the private key kumo made has %s", got, want)
		}
		shown := cli.Run(t, "keypair", "show", "--public-key", "generated")
		if got, want := keyBody(shown), sshPublicFromPrivate(t, privFile); got != want {
			t.Errorf("keypair show --public-key = %q, want the public half of the private key: %q", got, want)
		}
	})

	t.Run("create from --public-key", func(t *testing.T) {
		var kp obj
		cli.JSON(t, &kp, "keypair", "create", "--public-key", pub, "imported")
		if got, want := kp.str(t, "fingerprint"), sshFingerprint(t, pub); got != want {
			t.Errorf("fingerprint %s, ssh-keygen says %s", got, want)
		}
		if _, ok := kp["private_key"]; ok && kp["private_key"] != nil {
			t.Errorf("an imported key pair came back with a private key: %v", kp)
		}
		shown := cli.Run(t, "keypair", "show", "--public-key", "imported")
		if keyBody(shown) != keyBody(string(pubLine)) {
			t.Errorf("keypair show --public-key = %q, want %q", shown, pubLine)
		}
		stderr := cli.Fail(t, "keypair", "create", "--public-key", pub, "imported")
		if !strings.Contains(stderr, "409") || !strings.Contains(stderr, "Key pair 'imported' already exists.") {
			t.Errorf("a second keypair create of the same name failed with:\n%s", stderr)
		}
	})

	t.Run("list and show", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, "keypair", "list")
		if len(rows) != 2 || findBy(rows, "Name", "generated") == nil || findBy(rows, "Name", "imported") == nil {
			t.Fatalf("keypair list = %v, want generated and imported", rows)
		}
		if got := findBy(rows, "Name", "imported").str(t, "Fingerprint"); got != sshFingerprint(t, pub) {
			t.Errorf("keypair list fingerprint of imported = %s, want %s", got, sshFingerprint(t, pub))
		}
		var kp obj
		cli.JSON(t, &kp, "keypair", "show", "imported")
		if kp.str(t, "name") != "imported" || kp.str(t, "fingerprint") != sshFingerprint(t, pub) || kp.str(t, "user_id") == "" {
			t.Errorf("keypair show imported = %v", kp)
		}
	})

	t.Run("delete", func(t *testing.T) {
		cli.Run(t, "keypair", "delete", "generated")
		var rows []obj
		cli.JSON(t, &rows, "keypair", "list")
		if len(rows) != 1 || findBy(rows, "Name", "imported") == nil {
			t.Errorf("keypair list after delete = %v, want only imported", rows)
		}
		if stderr := cli.Fail(t, "keypair", "show", "generated"); !strings.Contains(stderr, "No Keypair found for generated") {
			t.Errorf("keypair show of a deleted key pair failed with:\n%s", stderr)
		}
		stderr := cli.Fail(t, "keypair", "delete", "generated")
		if !strings.Contains(stderr, "404") || !strings.Contains(stderr, "Keypair generated not found for user") {
			t.Errorf("keypair delete of a deleted key pair failed with:\n%s", stderr)
		}
	})
}

func TestKeypairsGophercloud(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	ctx := context.Background()

	// A key made in Go, imported.
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	imported, err := keypairs.Create(ctx, c.Compute, keypairs.CreateOpts{Name: "go-key", PublicKey: string(ssh.MarshalAuthorizedKey(pub))}).Extract()
	if err != nil {
		t.Fatalf("import key pair: %v", err)
	}
	if imported.Fingerprint != ssh.FingerprintLegacyMD5(pub) || imported.PrivateKey != "" {
		t.Errorf("imported key pair: fingerprint %s (want %s), private key %d bytes (want none)",
			imported.Fingerprint, ssh.FingerprintLegacyMD5(pub), len(imported.PrivateKey))
	}

	// A key kumo generates (microversion 2.1 still allows it).
	generated, err := keypairs.Create(ctx, c.Compute, keypairs.CreateOpts{Name: "kumo-key"}).Extract()
	if err != nil {
		t.Fatalf("generate key pair: %v", err)
	}
	signer, err := ssh.ParsePrivateKey([]byte(generated.PrivateKey))
	if err != nil {
		t.Fatalf("the generated private key does not parse: %v\n%s", err, generated.PrivateKey)
	}
	if got := ssh.FingerprintLegacyMD5(signer.PublicKey()); got != generated.Fingerprint {
		t.Errorf("generated key pair fingerprint %s, its private key's is %s", generated.Fingerprint, got)
	}
	if keyBody(generated.PublicKey) != keyBody(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) {
		t.Errorf("generated public key %q is not the private key's", generated.PublicKey)
	}

	pages, err := keypairs.List(c.Compute, nil).AllPages(ctx)
	if err != nil {
		t.Fatalf("list key pairs: %v", err)
	}
	list, err := keypairs.ExtractKeyPairs(pages)
	if err != nil {
		t.Fatalf("extract key pairs: %v", err)
	}
	fingerprints := map[string]string{}
	for _, k := range list {
		fingerprints[k.Name] = k.Fingerprint
	}
	if len(fingerprints) != 2 || fingerprints["go-key"] != imported.Fingerprint || fingerprints["kumo-key"] != generated.Fingerprint {
		t.Errorf("key pair list = %v, want go-key and kumo-key with their fingerprints", fingerprints)
	}

	got, err := keypairs.Get(ctx, c.Compute, "go-key", nil).Extract()
	if err != nil {
		t.Fatalf("get key pair: %v", err)
	}
	if got.Name != "go-key" || keyBody(got.PublicKey) != keyBody(string(ssh.MarshalAuthorizedKey(pub))) || got.UserID == "" {
		t.Errorf("get key pair = %+v", got)
	}

	if err := keypairs.Delete(ctx, c.Compute, "go-key", nil).ExtractErr(); err != nil {
		t.Fatalf("delete key pair: %v", err)
	}
	_, err = keypairs.Get(ctx, c.Compute, "go-key", nil).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("get deleted key pair: err = %v, want 404", err)
	}
}
