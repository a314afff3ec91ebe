// Package logfile is an append-only log file rotated by size, shared by the
// commands a timer starts and by `bluemoon serve`, so an admin finds what an
// unattended run did in one place: <home>/logs/bluemoon.log.
package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/bluemoon-mail/bluemoon/internal/home"
)

// Defaults: a few megabytes is weeks of scheduled runs; three old files
// bound the disk a forgotten cron job can use.
const (
	DefaultMaxSize = 5 << 20
	DefaultBackups = 3
)

// File is an io.Writer appending to path, rotating path → path.1 → path.2 …
// when a write would pass MaxSize. Writes are serialised within a process;
// O_APPEND keeps whole lines from several processes from interleaving.
type File struct {
	Path    string
	MaxSize int64
	Backups int

	mu   sync.Mutex
	f    *os.File
	fi   os.FileInfo // f's identity when opened, to notice a rotation by another process
	size int64
}

// Open opens (creating with mode 0600, its folder 0700) the log at path.
func Open(path string, maxSize int64, backups int) (*File, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if backups < 0 {
		backups = 0
	}
	l := &File{Path: path, MaxSize: maxSize, Backups: backups}
	// home.Ensure also tightens a folder made earlier by hand or by a
	// program with a looser umask: the lines name recipients and accounts.
	if err := home.Ensure(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("log folder: %w", err)
	}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *File) open() error {
	f, err := os.OpenFile(l.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log %s: %w", l.Path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log %s: %w", l.Path, err)
	}
	// O_CREATE's mode applies only to a new file: an existing log others
	// can read (copied in, or made by an older version) is tightened.
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return fmt.Errorf("restrict log %s to its owner: %w", l.Path, err)
		}
	}
	l.f, l.fi, l.size = f, st, st.Size()
	return nil
}

// Write appends p, rotating first when p would make the file too big.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	// Another process may have rotated the file: follow the name, not the inode.
	if st, err := os.Stat(l.Path); err != nil || !os.SameFile(st, l.fi) {
		l.f.Close()
		if err := l.open(); err != nil {
			return 0, err
		}
	}
	if l.size > 0 && l.size+int64(len(p)) > l.MaxSize {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

func (l *File) rotate() error {
	l.f.Close()
	l.f = nil
	if l.Backups == 0 {
		os.Remove(l.Path)
	} else {
		os.Remove(l.backup(l.Backups))
		for i := l.Backups - 1; i >= 1; i-- {
			os.Rename(l.backup(i), l.backup(i+1))
		}
		if err := os.Rename(l.Path, l.backup(1)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("rotate log %s: %w", l.Path, err)
		}
	}
	return l.open()
}

func (l *File) backup(i int) string { return l.Path + "." + strconv.Itoa(i) }

// Close closes the file.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
