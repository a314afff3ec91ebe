// Package safefile reads files whose names come from input someone else
// wrote (a recipient list's attachment column) or that may not be what
// they seem: only regular files, their size checked with stat before a
// byte is read, and read through a limit in case they grow meanwhile.
// /dev/zero never ends, a FIFO blocks for ever, and a folder or device is
// never an attachment.
package safefile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// NotRegularError: the path names something other than a plain file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a plain file", e.Path, Kind(e.Mode))
}

// TooLargeError: the file is over the limit it was read with.
type TooLargeError struct {
	Path        string
	Size, Limit int64 // Size is -1 when the file grew past Limit while read
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s grew past %d bytes while being read", e.Path, e.Limit)
	}
	return fmt.Sprintf("%s is %d bytes, over the limit of %d", e.Path, e.Size, e.Limit)
}

// Kind names what a file mode is, in words.
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a plain file"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0, m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a plain file"
}

// Open opens path for reading when it is a regular file (after symbolic
// links), and returns it with its size. It never blocks on a FIFO: the
// file is checked with stat first and opened without waiting for a
// writer, then checked again as opened, in case it was swapped between.
func Open(path string) (*os.File, int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Op = "open" // what the user asked for; the stat is ours
		}
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	f, err := openNoBlock(path)
	if err != nil {
		return nil, 0, err
	}
	got, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !got.Mode().IsRegular() || !os.SameFile(fi, got) {
		f.Close()
		return nil, 0, &NotRegularError{Path: path, Mode: got.Mode()}
	}
	return f, got.Size(), nil
}

// ReadFile reads path whole when it is a regular file of at most limit
// bytes: refused by its size before reading, and read through the limit.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, size, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > limit {
		return nil, &TooLargeError{Path: path, Size: size, Limit: limit}
	}
	var buf bytes.Buffer
	buf.Grow(int(size) + bytes.MinRead)
	n, err := buf.ReadFrom(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if n > limit {
		return nil, &TooLargeError{Path: path, Size: -1, Limit: limit}
	}
	return buf.Bytes(), nil
}

// IsNotRegular reports whether err says a path is not a plain file.
func IsNotRegular(err error) bool {
	var e *NotRegularError
	return errors.As(err, &e)
}
