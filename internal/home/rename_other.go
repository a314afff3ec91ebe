//go:build !windows

package home

import "os"

// replaceFile renames tmp over path, atomically on POSIX systems.
func replaceFile(tmp, path string) error { return os.Rename(tmp, path) }
