//go:build !unix

package safefile

import "os"

// openNoBlock opens path; on Windows opening a named pipe's path does not
// wait for its other end.
func openNoBlock(path string) (*os.File, error) { return os.Open(path) }
