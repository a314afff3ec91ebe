package logfile

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// Stamped returns a writer that copies whole lines to w, each prefixed with
// the time and passed through filter (nil: unchanged). It is how a
// command's plain stderr output (progress lines, error sentences) also
// lands in the log file. Close writes an unfinished last line.
func Stamped(w io.Writer, now func() time.Time, filter func(string) string) io.WriteCloser {
	return &stamped{w: w, now: now, filter: filter}
}

type stamped struct {
	mu     sync.Mutex
	w      io.Writer
	now    func() time.Time
	filter func(string) string
	buf    []byte
}

func (s *stamped) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			break
		}
		line := string(bytes.TrimRight(s.buf[:i], "\r"))
		s.buf = s.buf[i+1:]
		if err := s.emit(line); err != nil {
			return len(p), err
		}
	}
	// A progress bar redrawn with \r and no newline must not grow forever.
	if len(s.buf) > 64<<10 {
		s.buf = s.buf[len(s.buf)-(64<<10):]
	}
	return len(p), nil
}

func (s *stamped) emit(line string) error {
	if line == "" {
		return nil
	}
	if s.filter != nil {
		line = s.filter(line)
	}
	_, err := io.WriteString(s.w, s.now().UTC().Format("2006-01-02T15:04:05.000Z07:00")+" "+line+"\n")
	return err
}

func (s *stamped) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) == 0 {
		return nil
	}
	line := string(s.buf)
	s.buf = nil
	return s.emit(line)
}
