//go:build linux && !386

package transport

import (
	"os"
	"syscall"
	"unsafe"
)

func rawSetLowWater(fd uintptr, n int) error {
	v := int32(n)
	_, _, e := syscall.RawSyscall6(syscall.SYS_SETSOCKOPT, fd, syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, uintptr(unsafe.Pointer(&v)), unsafe.Sizeof(v), 0)
	if e != 0 {
		return os.NewSyscallError("setsockopt", e)
	}
	return nil
}
