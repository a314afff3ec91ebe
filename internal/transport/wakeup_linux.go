package transport

import (
	"errors"
	"syscall"
)

const lowWaterSupported = true

// setLowWater sets the mark as a read starts, with a raw setsockopt(2)
// where the system has that call (rawSetLowWater), going around the
// runtime's system call path for the reason fastConn's reads do.
func setLowWater(fd uintptr, n int) error {
	if err := rawSetLowWater(fd, n); err != errNoRawSetsockopt {
		return err
	}
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, n)
}

// errNoRawSetsockopt: 32-bit x86 Linux reaches setsockopt through
// socketcall(2) only; the mark is set the runtime's way there.
var errNoRawSetsockopt = errors.New("no raw setsockopt on this system")
