package transport

import (
	"os"
	"syscall"
	"unsafe"
)

const lowWaterSupported = true

// setLowWater sets the mark with a raw setsockopt(2): it is set as a
// read starts, and goes around the runtime's system call path for the
// reason fastConn's reads do.
func setLowWater(fd uintptr, n int) error {
	v := int32(n)
	_, _, e := syscall.RawSyscall6(syscall.SYS_SETSOCKOPT, fd, syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, uintptr(unsafe.Pointer(&v)), unsafe.Sizeof(v), 0)
	if e != 0 {
		return os.NewSyscallError("setsockopt", e)
	}
	return nil
}
