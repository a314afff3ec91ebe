//go:build unix

package merge

import "syscall"

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }
