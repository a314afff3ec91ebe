// Package fileerr words a failed file operation for a person: "cannot
// open list.csv: no such file", said once. Go's own text ("open list.csv:
// no such file or directory") reads oddly after a flag or a verb of ours
// ("cannot read open …"), and an lstat or stat a program makes on the way
// is not what the person asked for.
package fileerr

import (
	"errors"
	"io/fs"
	"syscall"
)

// Error is a file operation that failed, worded for a person. It wraps the
// *fs.PathError, so errors.Is(err, fs.ErrNotExist) still holds.
type Error struct {
	Op   string // what the person asked for: open, read, write…
	Path string
	Err  *fs.PathError
}

func (e *Error) Error() string { return "cannot " + e.Op + " " + e.Path + ": " + reason(e.Err.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Explain returns err worded as an *Error when it is an *fs.PathError
// (what os.Open, os.ReadFile, os.Stat… return), else err unchanged: an
// error already worded by its maker keeps its words.
func Explain(err error) error {
	pe, ok := err.(*fs.PathError)
	if !ok {
		return err
	}
	op := pe.Op
	switch op {
	case "open", "stat", "lstat", "openat", "CreateFile", "GetFileAttributesEx", "FindFirstFile":
		// Looking a file up is part of opening it.
		op = "open"
	}
	return &Error{Op: op, Path: pe.Path, Err: pe}
}

func reason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, syscall.EISDIR):
		return "it is a folder, not a file"
	case errors.Is(err, syscall.ENOTDIR):
		return "a part of the path is a file, not a folder"
	}
	return err.Error()
}
