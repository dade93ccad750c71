package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	b, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", st.Mode().Perm(), err)
	}
	sealed := b.Seal("hunter2")
	if strings.Contains(sealed, "hunter2") || sealed == b.Seal("hunter2") {
		t.Fatal("sealed value leaks the plaintext or is not randomised")
	}
	again, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(sealed); err != nil || got != "hunter2" {
		t.Fatalf("open with reloaded key = %q, %v", got, err)
	}
	other, _ := LoadOrCreate(filepath.Join(t.TempDir(), "other.key"))
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("a different key opened the secret")
	}
	if _, err := b.Open("not base64!"); err == nil {
		t.Fatal("malformed input accepted")
	}
}
