package coalesce

import (
	"net"
	"syscall"
	"unsafe"
)

// unsent returns the bytes that c's kernel send queue still holds (written
// but not yet acknowledged by the peer), so that a write blocked on a full
// queue can tell a slow reader (the queue shrinks) from a stalled one.
func unsent(c net.Conn) (int, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var n int32
	var errno syscall.Errno
	if err := raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n)))
	}); err != nil || errno != 0 {
		return 0, false
	}
	return int(n), true
}
