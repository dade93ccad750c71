package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/mv"
)

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	out := RunKumo(t, kumoBin, "version")
	r := mv.Supported()
	want := regexp.MustCompile(`^kumo \S+ \(compute API ` + regexp.QuoteMeta(r.Min.String()+"-"+r.Max.String()) + `\)\n$`)
	if !want.MatchString(out) {
		t.Errorf("kumo version printed %q, want %s", out, want)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	re := regexp.MustCompile(`^applied (\d+) migrations; schema version (\d+)\n$`)
	migrate := func() (applied, version int) {
		out := RunKumo(t, kumoBin, "migrate", "--data-dir", dir)
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("kumo migrate printed %q", out)
		}
		return atoi(t, m[1]), atoi(t, m[2])
	}
	n1, v1 := migrate()
	if n1 == 0 || v1 == 0 {
		t.Fatalf("first migrate applied %d migrations, schema version %d; want both > 0", n1, v1)
	}
	n2, v2 := migrate()
	if n2 != 0 || v2 != v1 {
		t.Errorf("second migrate applied %d migrations, schema version %d; want 0 and %d", n2, v2, v1)
	}
	if _, err := os.Stat(filepath.Join(dir, "kumo.db")); err != nil {
		t.Errorf("migrate left no database in the data dir: %v", err)
	}
}

// TestCloudsFileIsPrivate checks the admin credentials kumo writes: only
// the owner can read them, they hold the password and not a hash, and
// the database holds no clear-text copy.
func TestCloudsFileIsPrivate(t *testing.T) {
	t.Parallel()
	s, cli := startAdmin(t)
	st, err := os.Stat(s.CloudsFile())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("clouds.yaml mode %v, want 0600", st.Mode().Perm())
	}
	body, err := os.ReadFile(s.CloudsFile())
	if err != nil {
		t.Fatal(err)
	}
	if h := regexp.MustCompile(`\$(2[abxy]?|argon2i?d?|pbkdf2[-\w]*|scrypt|[156])\$`).Find(body); h != nil {
		t.Errorf("clouds.yaml contains what looks like a password hash (%q):\n%s", h, body)
	}
	c := NewClients(t, s.CloudsFile(), "kumo")
	if c.Auth.Username != "admin" || c.Auth.TenantName != "admin" || len(c.Auth.Password) < 16 {
		t.Errorf("clouds.yaml credentials: user %q project %q password of %d chars", c.Auth.Username, c.Auth.TenantName, len(c.Auth.Password))
	}
	cli.Run(t, "token", "issue") // the password in the file logs in

	files := globData(t, s.DataDir, "kumo.db*")
	if len(files) == 0 {
		t.Fatal("no SQLite database in the data dir")
	}
	for _, f := range files {
		db, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(db, []byte(c.Auth.Password)) {
			t.Errorf("%s holds the admin password in clear text", f)
		}
	}
}

// TestOpenRC sources `kumo openrc` in a shell and uses the CLI with the
// environment alone, as `. <(kumo openrc)` would.
func TestOpenRC(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	s := Start(t, kumoBin, Options{})
	rc := RunKumo(t, kumoBin, "openrc", "--data-dir", s.DataDir)
	for _, v := range []string{"OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME", "OS_IDENTITY_API_VERSION"} {
		if !strings.Contains(rc, "export "+v+"=") {
			t.Errorf("kumo openrc does not export %s:\n%s", v, rc)
		}
	}
	cmd := exec.Command("bash", "-c", `eval "$KUMO_OPENRC" && exec openstack flavor show m1.tiny -f value -c name`)
	cmd.Env = append(cleanEnv(), "KUMO_OPENRC="+rc)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openstack with kumo openrc's environment: %v\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) != "m1.tiny" {
		t.Errorf("flavor show with openrc printed %q, want m1.tiny", out)
	}
}

// TestRestartKeepsAdmin stops kumo and starts it again on the same data
// dir and address: the admin password in clouds.yaml still works, the
// file is not rewritten, and what was created survives.
func TestRestartKeepsAdmin(t *testing.T) {
	t.Parallel()
	s, cli := startAdmin(t)
	before, err := os.ReadFile(s.CloudsFile())
	if err != nil {
		t.Fatal(err)
	}
	var f obj
	cli.JSON(t, &f, "flavor", "create", "--ram", "64", "--disk", "0", "--vcpus", "1", "survivor")

	s.Stop(t)
	if err := s.ExitErr(); err != nil {
		t.Errorf("kumo did not exit cleanly on SIGTERM: %v", err)
	}
	s2 := Start(t, kumoBin, Options{DataDir: s.DataDir, Listen: s.Listen})
	after, err := os.ReadFile(s2.CloudsFile())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("clouds.yaml changed across a restart (re-bootstrap?):\nbefore:\n%s\nafter:\n%s", before, after)
	}
	var tok obj
	cli.JSON(t, &tok, "token", "issue")
	if tok.str(t, "id") == "" {
		t.Errorf("token issue after restart printed %v", tok)
	}
	var got obj
	cli.JSON(t, &got, "flavor", "show", "survivor")
	if got.str(t, "id") != f.str(t, "id") {
		t.Errorf("flavor after restart = %v, want id %v", got, f["id"])
	}
}
