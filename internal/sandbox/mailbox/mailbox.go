// Package mailbox is where the sandbox's stand-in servers put what they
// accept: one file per message in a folder of the sandbox home, so a
// rehearsal's mail survives a restart or a crash, read back decoded (with
// internal/message, the one decoder) for the console's Inbox.
package mailbox

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/message"
)

// DefaultMax is how many messages a mailbox keeps: a rehearsal of a few
// hundred recipients fits; beyond it the oldest are dropped.
const DefaultMax = 2000

// Envelope is what the stand-in saw besides the message itself.
type Envelope struct {
	Server string    `json:"server"` // which stand-in took it ("google-smtp", "graph", …)
	User   string    `json:"user,omitempty"`
	From   string    `json:"from,omitempty"`
	To     []string  `json:"to"`
	At     time.Time `json:"at"`
}

// Store is one mailbox folder.
type Store struct {
	dir string
	max int
	mu  sync.Mutex // guards held
	// held is the folder's messages, oldest first, read from the folder
	// once and then kept by prune and Empty, so neither a delivery (to
	// learn what to prune) nor an open Inbox page's poll every 2 s reads
	// the whole folder (nil: not read yet). Only this process writes the
	// folder.
	held []string
}

// Open makes (0700) and opens the mailbox folder dir, keeping at most max
// messages (DefaultMax when max <= 0).
func Open(dir string, max int) (*Store, error) {
	if max <= 0 {
		max = DefaultMax
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Store{dir: dir, max: max}, nil
}

// Dir is the mailbox's folder.
func (s *Store) Dir() string { return s.dir }

// Max is how many messages the mailbox keeps.
func (s *Store) Max() int { return s.max }

// idPattern is a message's name: its arrival in nanoseconds (hex, fixed
// width, so names sort by arrival) and a random tail. Nothing else is ever
// opened, so an id from a URL cannot name another file.
var idPattern = regexp.MustCompile(`^[0-9a-f]{16}-[0-9a-f]{8}$`)

const ext = ".msg"

// Deliver stores one message: the envelope as a JSON line, then the raw
// message, written to a temporary name and renamed, so a crash leaves
// either the whole message or none. It returns the message's id.
func (s *Store) Deliver(env Envelope, raw []byte) (string, error) {
	if env.At.IsZero() {
		env.At = time.Now()
	}
	head, err := json.Marshal(env)
	if err != nil {
		return "", err
	}
	tail := make([]byte, 4)
	if _, err := rand.Read(tail); err != nil {
		return "", err
	}
	id := fmt.Sprintf("%016x-%s", uint64(env.At.UnixNano()), hex.EncodeToString(tail))
	tmp := filepath.Join(s.dir, "."+id+".tmp")
	data := append(append(head, '\n'), raw...)
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, id+ext)); err != nil {
		os.Remove(tmp)
		return "", err
	}
	s.prune(id)
	return id, nil
}

// load reads the folder's message ids into held unless already there;
// s.mu must be held.
func (s *Store) load() error {
	if s.held != nil {
		return nil
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	ids := []string{}
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ext); ok && idPattern.MatchString(id) && e.Type().IsRegular() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	s.held = ids
	return nil
}

// ids lists the stored messages, newest first.
func (s *Store) ids() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return nil, err
	}
	ids := slices.Clone(s.held)
	slices.Reverse(ids)
	return ids, nil
}

// prune records the message just stored and drops the oldest beyond max.
func (s *Store) prune(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		if s.load() != nil { // this one among them
			return
		}
	} else {
		i, _ := slices.BinarySearch(s.held, id)
		s.held = slices.Insert(s.held, i, id)
	}
	for len(s.held) > s.max {
		os.Remove(filepath.Join(s.dir, s.held[0]+ext))
		s.held = s.held[1:]
	}
}

// Count is how many messages the mailbox holds.
func (s *Store) Count() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.load()
	return len(s.held), err
}

// Newer is how many messages arrived after message id ("" counts them
// all) and the newest one's id: what an open Inbox page polls for, without
// reading any message.
func (s *Store) Newer(id string) (int, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil || len(s.held) == 0 {
		return 0, "", err
	}
	i, found := slices.BinarySearch(s.held, id) // held is oldest first
	if found {
		i++
	}
	return len(s.held) - i, s.held[len(s.held)-1], nil
}

// Summary is one line of the Inbox.
type Summary struct {
	ID       string
	Envelope Envelope
	From     string // the From header, decoded
	To       string
	Subject  string
	Size     int
	Problem  string // why the message could not be decoded ("" when it could)
	// Damaged is set when the file itself could not be read back; then
	// only ID, Envelope.At (from the file's name) and Size are known.
	Damaged *DamagedError
}

// DamagedError is a stored message whose file cannot be read back: cut
// short, overwritten or unreadable, as opposed to a message that reads
// but does not decode (Problem). It is one message's trouble, so List
// carries it on that message's line instead of failing for the rest.
type DamagedError struct {
	ID   string
	File string    // the file's path
	At   time.Time // when it arrived, from its name: the envelope is what may be lost
	Err  error     // why
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("sandbox inbox: message %s (%s) cannot be read: %v", e.ID, e.File, e.Err)
}

func (e *DamagedError) Unwrap() error { return e.Err }

// damaged is id's DamagedError for cause.
func (s *Store) damaged(id string, cause error) *DamagedError {
	e := &DamagedError{ID: id, File: filepath.Join(s.dir, id+ext), Err: cause}
	if n, err := strconv.ParseUint(id[:16], 16, 64); err == nil {
		e.At = time.Unix(0, int64(n))
	}
	return e
}

// errNoEnvelope is a file that ends before its envelope line does, as a
// file cut short (or emptied) does.
var errNoEnvelope = errors.New("the file ends inside its envelope line")

// readEnvelope parses a file's first line, with what went wrong in words.
func readEnvelope(line []byte, env *Envelope) error {
	if err := json.Unmarshal(line, env); err != nil {
		return fmt.Errorf("its envelope line is not the JSON this writes: %w", err)
	}
	return nil
}

// List returns up to limit messages, newest first, after skipping offset,
// and how many there are in all. A message whose file cannot be read is
// on the list with Damaged set.
func (s *Store) List(offset, limit int) ([]Summary, int, error) {
	ids, err := s.ids()
	if err != nil {
		return nil, 0, err
	}
	total := len(ids)
	if offset > total {
		offset = total
	}
	ids = ids[offset:min(total, offset+limit)]
	out := make([]Summary, 0, len(ids))
	for _, id := range ids {
		sum, err := s.summary(id)
		if errors.Is(err, ErrNotFound) {
			continue // emptied or pruned meanwhile
		}
		out = append(out, *sum)
	}
	return out, total, nil
}

// summary reads only the envelope and the message's header: a list page
// must not decode fifty messages' attachments. Its only error is
// ErrNotFound; a file that cannot be read is a Summary with Damaged.
func (s *Store) summary(id string) (*Summary, error) {
	sum := &Summary{ID: id}
	bad := func(err error) (*Summary, error) {
		sum.Damaged = s.damaged(id, err)
		sum.Envelope = Envelope{At: sum.Damaged.At}
		return sum, nil
	}
	f, err := os.Open(filepath.Join(s.dir, id+ext))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return bad(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return bad(err)
	}
	sum.Size = int(fi.Size())
	br := bufio.NewReader(f)
	head, err := br.ReadBytes('\n')
	if errors.Is(err, io.EOF) {
		return bad(errNoEnvelope)
	}
	if err != nil {
		return bad(err)
	}
	if err := readEnvelope(head, &sum.Envelope); err != nil {
		return bad(err)
	}
	sum.Size -= len(head)
	m, err := mail.ReadMessage(br)
	if err != nil {
		sum.Problem = "not a mail message: " + err.Error()
		return sum, nil
	}
	sum.From = message.DecodeHeader(m.Header.Get("From"))
	sum.To = message.DecodeHeader(m.Header.Get("To"))
	sum.Subject = message.DecodeHeader(m.Header.Get("Subject"))
	return sum, nil
}

// Message is one stored message, whole.
type Message struct {
	ID       string
	Envelope Envelope
	Raw      []byte
	Decoded  *message.Decoded // nil when it could not be decoded
	Problem  string           // why not
}

// ErrNotFound: no message by that id (never stored, pruned or emptied).
var ErrNotFound = errors.New("no such message in the sandbox inbox")

// Get reads message id back, decoded. A file that cannot be read back is
// a *DamagedError.
func (s *Store) Get(id string) (*Message, error) {
	if !idPattern.MatchString(id) {
		return nil, ErrNotFound
	}
	data, err := os.ReadFile(filepath.Join(s.dir, id+ext))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, s.damaged(id, err)
	}
	head, raw, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return nil, s.damaged(id, errNoEnvelope)
	}
	m := &Message{ID: id, Raw: raw}
	if err := readEnvelope(head, &m.Envelope); err != nil {
		return nil, s.damaged(id, err)
	}
	if d, err := message.Decode(raw); err != nil {
		m.Problem = err.Error()
	} else {
		m.Decoded = d
	}
	return m, nil
}

// Empty removes every message and says how many it removed.
func (s *Store) Empty() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, id := range s.held {
		if err := os.Remove(filepath.Join(s.dir, id+ext)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	s.held = []string{}
	if errs != nil {
		s.held = nil // what is left is read again
	}
	return n, errors.Join(errs...)
}
