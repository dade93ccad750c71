//go:build !linux

package storetest

import "testing"

// SmallDisk needs Linux's tmpfs; elsewhere the test is skipped.
func SmallDisk(t testing.TB, size int64) string {
	t.Helper()
	t.Skip("small disks are tmpfs mounts: Linux only")
	return ""
}

// FillDisk is never reached without SmallDisk.
func FillDisk(t testing.TB, dir, name string) string {
	t.Helper()
	t.Skip("small disks are tmpfs mounts: Linux only")
	return ""
}
