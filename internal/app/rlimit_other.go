//go:build !unix

package app

// raiseOpenFileLimit reports no limit where there is no RLIMIT_NOFILE.
func raiseOpenFileLimit() (uint64, error) { return 0, nil }
