//go:build unix

package server

import "syscall"

// openFileLimit returns the process's soft limit on open files (Go raises it
// to the hard limit at start-up).
func openFileLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 1 << 30
	}
	return int(rl.Cur)
}
