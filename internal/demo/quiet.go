package demo

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// The demo says only what it did. The commands it runs are the real ones,
// and two of their notes would be untrue or noise here: the warnings that
// the stand-ins' endpoints are not Google's or Microsoft's own (of course
// they are not: they are the demo's), and a sign-in's "open the address
// above in a browser", which the demo does itself. Those lines are left
// out of what the demo shows; everything else a command says is shown.

// quiet is a line filter over w that drops the lines drop matches.
type quiet struct {
	mu   sync.Mutex
	w    io.Writer
	drop func(line string) bool
	buf  []byte
}

func (q *quiet) Write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.buf = append(q.buf, p...)
	for {
		i := bytes.IndexByte(q.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := q.buf[:i+1]
		if !q.drop(string(line)) {
			if _, err := q.w.Write(line); err != nil {
				return len(p), err
			}
		}
		q.buf = q.buf[i+1:]
	}
}

// flush writes what is left of an unfinished line.
func (q *quiet) flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.buf) > 0 && !q.drop(string(q.buf)) {
		q.w.Write(q.buf)
	}
	q.buf = nil
}

// aboutStandIns reports whether line is a command's note on something the
// demo itself set up: an endpoint of one of its stand-ins called "not a
// default", or the request to open the sign-in address the demo's own
// browser opens.
func (s *StandIns) aboutStandIns(line string) bool {
	if strings.HasPrefix(line, "Open the address above in a browser") {
		return true
	}
	for _, p := range []*Provider{s.Google, s.Microsoft} {
		if !strings.Contains(line, "not a "+string(p.Kind)+" default") {
			continue
		}
		for _, u := range []string{p.OAuth.URL(), p.API.URL()} {
			if strings.Contains(line, "= "+u) {
				return true
			}
		}
	}
	return false
}

// urlCatcher passes a command's stdout to w and hands its first line, the
// sign-in address `login --no-browser` prints, to open.
type urlCatcher struct {
	w    io.Writer
	open func(url string)
	line []byte
	done bool
}

func (c *urlCatcher) Write(p []byte) (int, error) {
	if !c.done {
		c.line = append(c.line, p...)
		if i := bytes.IndexByte(c.line, '\n'); i >= 0 {
			c.done = true
			defer c.open(strings.TrimSpace(string(c.line[:i])))
		}
	}
	return c.w.Write(p)
}
