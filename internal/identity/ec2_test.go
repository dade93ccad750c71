package identity

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestEC2Credentials(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		alice, bob := f.user(t, "alice", "pw"), f.user(t, "bob", "pw")
		p1, p2 := f.project(t, "p1"), f.project(t, "p2")

		first, err := f.svc.CreateEC2Credential(f.ctx, alice.ID, p1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !hex32.MatchString(first.Access) || !hex32.MatchString(first.Secret) || first.Access == first.Secret ||
			first.UserID != alice.ID || first.ProjectID != p1.ID || first.TrustID != "" {
			t.Fatalf("created %+v", first)
		}
		f.now = f.now.Add(time.Second) // listed oldest first
		second, err := f.svc.CreateEC2Credential(f.ctx, alice.ID, p2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateEC2Credential(f.ctx, bob.ID, p1.ID); err != nil {
			t.Fatal(err)
		}

		// At rest: keyed by the access key's SHA-256, secret encrypted.
		var id, blob string
		if err := db.QueryRowContext(f.ctx, `SELECT id, encrypted_blob FROM credentials WHERE user_id = ? AND project_id = ?`,
			alice.ID, p1.ID).Scan(&id, &blob); err != nil {
			t.Fatal(err)
		}
		if id != tokenHash(first.Access) || strings.Contains(blob, first.Secret) || strings.Contains(blob, first.Access) {
			t.Errorf("stored id %s, blob %s: want the hashed access key and no key in clear", id, blob)
		}

		list, err := f.svc.ListEC2Credentials(f.ctx, alice.ID)
		if err != nil || len(list) != 2 || list[0] != *first || list[1] != *second {
			t.Errorf("alice's credentials %+v, %v; want %+v then %+v", list, err, first, second)
		}
		got, err := f.svc.GetEC2Credential(f.ctx, first.Access)
		if err != nil || *got != *first {
			t.Errorf("GetEC2Credential = %+v, %v; want %+v", got, err, first)
		}

		errorCases := []struct {
			name    string
			call    func() error
			kind    errs.Kind
			message string
		}{
			{"create for a missing user", func() error {
				_, err := f.svc.CreateEC2Credential(f.ctx, "nope", p1.ID)
				return err
			}, errs.KindNotFound, "Could not find user: nope."},
			{"create on a missing project", func() error {
				_, err := f.svc.CreateEC2Credential(f.ctx, alice.ID, "None")
				return err
			}, errs.KindNotFound, "Could not find project: None."},
			{"list of a missing user", func() error {
				_, err := f.svc.ListEC2Credentials(f.ctx, "nope")
				return err
			}, errs.KindNotFound, "Could not find user: nope."},
			{"get a missing access key", func() error {
				_, err := f.svc.GetEC2Credential(f.ctx, "nope")
				return err
			}, errs.KindNotFound, "Could not find credential: " + tokenHash("nope") + "."},
			{"delete a missing access key", func() error {
				return f.svc.DeleteEC2Credential(f.ctx, "nope")
			}, errs.KindNotFound, "Could not find credential: " + tokenHash("nope") + "."},
		}
		for _, tc := range errorCases {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.call()
				wantKind(t, err, tc.kind)
				if errs.Message(err) != tc.message {
					t.Errorf("message %q, want %q", errs.Message(err), tc.message)
				}
			})
		}

		// Deleting a credential, its project or its user removes it.
		if err := f.svc.DeleteEC2Credential(f.ctx, first.Access); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.GetEC2Credential(f.ctx, first.Access); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("deleted credential: %v", err)
		}
		if err := f.svc.DeleteProject(f.ctx, p2.ID); err != nil {
			t.Fatal(err)
		}
		if list, err := f.svc.ListEC2Credentials(f.ctx, alice.ID); err != nil || len(list) != 0 {
			t.Errorf("after deleting p2 alice has %+v, %v", list, err)
		}
		if err := f.svc.DeleteUser(f.ctx, bob.ID); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM credentials`).Scan(&left); err != nil || left != 0 {
			t.Errorf("%d credentials left after deleting their user and project, %v", left, err)
		}
	})
}
