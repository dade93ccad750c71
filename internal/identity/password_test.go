package identity

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kumocloud/kumo/internal/errs"
)

func TestPasswordHashing(t *testing.T) {
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
				h, err := hashPassword(tc.stored)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(h, tc.stored) {
					t.Fatalf("hash %q contains the password", h)
				}
				hash = h
			}
			ok, err := checkPassword(hash, tc.tried)
			if err != nil || ok != tc.match {
				t.Errorf("checkPassword = %v, %v; want %v", ok, err, tc.match)
			}
		})
	}
	_, err := hashPassword(strings.Repeat("y", maxPasswordLength+1))
	wantKind(t, err, errs.KindInvalid)
	if err != nil && strings.Contains(err.Error(), "yyy") {
		t.Errorf("error %q echoes the password", err)
	}
	// The cost keeps one verification around 30 ms on a 2-core host
	// (measured with BenchmarkCheckPassword).
	h, _ := hashPassword("timing")
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != bcryptCost {
		t.Errorf("bcrypt cost %d %v, want %d", cost, err, bcryptCost)
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	h, err := hashPassword("benchmark")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _ := checkPassword(h, "benchmark"); !ok {
			b.Fatal("no match")
		}
	}
}
