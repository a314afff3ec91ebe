//go:build unix

package safefile

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// /dev/zero never ends and a FIFO blocks until someone writes: both are
// refused at once, before anything is read.
func TestDevicesAndFIFOsAreRefusedWithoutReading(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	for p, kind := range map[string]string{"/dev/zero": "a device", fifo: "a named pipe (FIFO)"} {
		_, err := ReadFile(p, 1<<20)
		if !IsNotRegular(err) || !strings.Contains(err.Error(), kind) {
			t.Errorf("%s: %v", p, err)
		}
	}
}
