//go:build unix

package app

import "syscall"

// raiseOpenFileLimit raises the soft limit on open files to the hard one
// and returns the soft limit in force (0 if unknown). Go's runtime does the same
// at start on Linux since Go 1.19, so this normally only reads it; it
// stays explicit because the connection cap is derived from it.
func raiseOpenFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			return uint64(lim.Cur), err // the soft limit stays as it was
		}
		lim = raised
	}
	return uint64(lim.Cur), nil
}
