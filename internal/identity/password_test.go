package identity

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kumocloud/kumo/internal/errs"
)

func TestPasswordHashing(t *testing.T) {
	t.Parallel()
	p := newPasswords(MinPasswordHashCost, nil)
	long := strings.Repeat("x", 100)
	tests := []struct {
		name, stored, tried string
		match               bool
	}{
		{"same", "s3cret", "s3cret", true},
		{"different", "s3cret", "s3cret!", false},
		{"empty stored never matches", "", "", false},
		{"long passwords keep every byte", long + "a", long + "b", false},
		{"long password", long, long, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hash := ""
			if tc.stored != "" {
				h, err := p.hash(tc.stored)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(h, tc.stored) {
					t.Fatalf("hash %q contains the password", h)
				}
				hash = h
			}
			ok, err := p.check(hash, tc.tried)
			if err != nil || ok != tc.match {
				t.Errorf("check = %v, %v; want %v", ok, err, tc.match)
			}
		})
	}
	_, err := p.hash(strings.Repeat("y", maxPasswordLength+1))
	wantKind(t, err, errs.KindInvalid)
	if err != nil && strings.Contains(err.Error(), "yyy") {
		t.Errorf("error %q echoes the password", err)
	}
}

// TestPasswordHashCost: new hashes take the configured cost, Keystone's
// 12 by default; hashes made at another cost keep verifying, and are
// not made again (Keystone's password_hash_rounds only affects new
// passwords).
func TestPasswordHashCost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		configured, want int
	}{
		{0, DefaultPasswordHashCost},
		{MinPasswordHashCost, MinPasswordHashCost},
		{5, 5},
		{1, MinPasswordHashCost}, // never bcrypt's silent fallback to 10
	}
	for _, tc := range tests {
		p := newPasswords(tc.configured, nil)
		if p.cost != tc.want {
			t.Errorf("cost %d configured: hashing at %d, want %d", tc.configured, p.cost, tc.want)
		}
	}
	if DefaultPasswordHashCost != 12 {
		t.Errorf("default cost %d, want Keystone's 12", DefaultPasswordHashCost)
	}
	h, err := newPasswords(5, nil).hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != 5 {
		t.Errorf("hash cost %d %v, want 5", cost, err)
	}
	if ok, err := newPasswords(MinPasswordHashCost, nil).check(h, "pw"); !ok || err != nil {
		t.Errorf("a cost-5 hash under a cost-4 service: %v %v, want a match", ok, err)
	}
	for _, tc := range []struct {
		cost int
		ok   bool
	}{{3, false}, {4, true}, {12, true}, {31, true}, {32, false}} {
		if err := CheckPasswordHashCost(tc.cost); (err == nil) != tc.ok {
			t.Errorf("CheckPasswordHashCost(%d) = %v, want ok=%v", tc.cost, err, tc.ok)
		}
	}
}

// TestDummyHash: with no hash to check (unknown user, no password), the
// comparison is still made, against a hash of the configured cost.
func TestDummyHash(t *testing.T) {
	t.Parallel()
	var costs []int
	p := newPasswords(5, func(hash, pw []byte) error {
		c, _ := bcrypt.Cost(hash)
		costs = append(costs, c)
		return bcrypt.CompareHashAndPassword(hash, pw)
	})
	for _, pw := range []string{"", "pw", strings.Repeat("z", 80)} {
		if ok, err := p.check("", pw); ok || err != nil {
			t.Errorf("check(\"\", %q) = %v %v, want false", pw, ok, err)
		}
	}
	if len(costs) != 3 || costs[0] != 5 || costs[1] != 5 || costs[2] != 5 {
		t.Errorf("compared at costs %v, want [5 5 5]", costs)
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	p := newPasswords(0, nil)
	h, err := p.hash("benchmark")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _ := p.check(h, "benchmark"); !ok {
			b.Fatal("no match")
		}
	}
}
