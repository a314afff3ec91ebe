package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/bluemoon-mail/bluemoon/internal/home"
)

// A new delivery is prepared over several pages, and its files (the list,
// attachments, files named per recipient) are uploaded: they are kept in a
// folder of the console's own under the data home, one per draft, with
// the draft's state beside them, so every step can be gone back to and a
// restart of the console loses nothing.
//
//	<home>/console/drafts/<id>/draft.json
//	                          list/<the list>, and files named per recipient
//	                          attach/<common attachments>
//	<home>/console/saved/<name>/   the files of a delivery saved or scheduled from here
//
// A draft not touched for draftTTL is removed; one that was sent is kept
// only while its delivery may still read its files (a per-recipient
// attachment is read when its message is sent), else removed at once.

// Upload bounds: a list of a million rows is well under the first; the
// second is above what any provider takes in one message.
const (
	maxListBytes   = 256 << 20
	maxAttachBytes = 50 << 20
	maxDraftBytes  = 512 << 20
	// maxUploadBytes bounds any one upload request (the guard applies it
	// before parsing): a list, or several files at once.
	maxUploadBytes = maxDraftBytes
	draftTTL       = 3 * 24 * time.Hour
	// sentKeep is how long the files of a sent draft stay after its
	// delivery finished, for a resend of the failed.
	sentKeep = 7 * 24 * time.Hour
)

// draft is a delivery being prepared.
type draft struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Touched time.Time `json:"touched"`
	// Kind is "" for a delivery; "suppress" for a list uploaded to be
	// added to the suppression list (suppression.go), which needs only
	// the list and is removed once imported.
	Kind string `json:"kind,omitempty"`

	// The list.
	ListName    string `json:"list_name,omitempty"` // as uploaded
	Encoding    string `json:"encoding,omitempty"`  // "" detects, utf-8, shift_jis
	Sheet       string `json:"sheet,omitempty"`
	EmailColumn string `json:"email_column,omitempty"`

	// The message.
	Account      string      `json:"account,omitempty"`
	Subject      string      `json:"subject,omitempty"`
	Text         string      `json:"text,omitempty"`
	HTML         string      `json:"html,omitempty"`
	Charset      string      `json:"charset,omitempty"`
	Signature    bool        `json:"signature,omitempty"`
	Attachments  []draftFile `json:"attachments,omitempty"`
	AttachColumn string      `json:"attach_column,omitempty"`
	RowFiles     []draftFile `json:"row_files,omitempty"` // files the attachment column names

	// DeliveryID is set once it was sent: the draft is done.
	DeliveryID int64 `json:"delivery_id,omitempty"`
	// MessageDone: the message step was passed once (the preview and
	// check steps are open).
	MessageDone bool `json:"message_done,omitempty"`
}

type draftFile struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// drafts are the drafts of one data home.
type drafts struct {
	root string // <home>/console
	mu   sync.Mutex
}

func newDrafts(homeDir string) *drafts { return &drafts{root: filepath.Join(homeDir, home.UploadsDir)} }

var errNoDraft = errors.New("no such draft")

func (d *drafts) dir(id string) string { return filepath.Join(d.root, "drafts", id) }

// ListPath is where the draft's list is (also the folder of the files
// its attachment column names).
func (d *drafts) listDir(id string) string   { return filepath.Join(d.dir(id), "list") }
func (d *drafts) attachDir(id string) string { return filepath.Join(d.dir(id), "attach") }

func (d *drafts) listPath(dr *draft) string {
	if dr.ListName == "" {
		return ""
	}
	return filepath.Join(d.listDir(dr.ID), dr.ListName)
}

// create makes a new, empty draft.
func (d *drafts) create() (*draft, error) {
	d.sweep()
	now := time.Now().UTC()
	dr := &draft{ID: randomToken(12), Created: now, Touched: now, Charset: "utf-8", Signature: true}
	for _, sub := range []string{d.listDir(dr.ID), d.attachDir(dr.ID)} {
		if err := os.MkdirAll(sub, 0o700); err != nil {
			return nil, err
		}
	}
	// The folders above the draft too: MkdirAll gives new parents 0700.
	return dr, d.save(dr)
}

// load reads a draft; an ID that is not one (or not well-formed) is errNoDraft.
func (d *drafts) load(id string) (*draft, error) {
	if id == "" || strings.ContainsAny(id, `/\.`) || len(id) > 64 {
		return nil, errNoDraft
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	b, err := os.ReadFile(filepath.Join(d.dir(id), "draft.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNoDraft
	}
	if err != nil {
		return nil, err
	}
	var dr draft
	if err := json.Unmarshal(b, &dr); err != nil {
		return nil, fmt.Errorf("draft %s is damaged: %w", id, err)
	}
	return &dr, nil
}

func (d *drafts) save(dr *draft) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dr.Touched = time.Now().UTC()
	b, err := json.MarshalIndent(dr, "", " ")
	if err != nil {
		return err
	}
	return home.WriteFileAtomic(filepath.Join(d.dir(dr.ID), "draft.json"), b, 0o600)
}

func (d *drafts) remove(id string) error { return os.RemoveAll(d.dir(id)) }

// used is how many bytes the draft's files take.
func (d *drafts) used(dr *draft) int64 {
	var n int64
	_ = filepath.WalkDir(d.dir(dr.ID), func(_ string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// errTooLarge: an upload passed its bound.
type errTooLarge struct {
	Name  string
	Limit int64
}

func (e *errTooLarge) Error() string {
	return fmt.Sprintf("%s is larger than %d MB", e.Name, e.Limit>>20)
}

// errBadName: an uploaded file's name cannot be kept as a file name.
type errBadName struct{ Name string }

func (e *errBadName) Error() string { return fmt.Sprintf("%q cannot be used as a file name", e.Name) }

// cleanName is an uploaded file's name as kept: the last path element,
// without control characters. Browsers send the bare name; a crafted
// request may send "../x".
func cleanName(name string) (string, error) {
	name = strings.ReplaceAll(name, `\`, "/")
	name = name[strings.LastIndex(name, "/")+1:]
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if name == "" || name == "." || name == ".." || name == "draft.json" || len(name) > 200 {
		return "", &errBadName{Name: name}
	}
	return name, nil
}

// keep copies an uploaded file into dir under its cleaned name, refusing
// one over limit or one that would take the draft past maxDraftBytes.
func (d *drafts) keep(dr *draft, dir string, fh *multipart.FileHeader, limit int64) (draftFile, error) {
	name, err := cleanName(fh.Filename)
	if err != nil {
		return draftFile{}, err
	}
	if fh.Size > limit {
		return draftFile{}, &errTooLarge{Name: name, Limit: limit}
	}
	if d.used(dr)+fh.Size > maxDraftBytes {
		return draftFile{}, &errTooLarge{Name: name, Limit: maxDraftBytes}
	}
	src, err := fh.Open()
	if err != nil {
		return draftFile{}, err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return draftFile{}, err
	}
	n, err := io.Copy(tmp, io.LimitReader(src, limit+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > limit {
		err = &errTooLarge{Name: name, Limit: limit}
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return draftFile{}, err
	}
	return draftFile{Name: name, Size: n}, nil
}

// sweep removes drafts left alone past draftTTL. Sent drafts are swept by
// sweepSent, which needs to know how their deliveries stand.
func (d *drafts) sweep() {
	ents, err := os.ReadDir(filepath.Join(d.root, "drafts"))
	if err != nil {
		return
	}
	for _, e := range ents {
		dr, err := d.load(e.Name())
		if err != nil {
			if errors.Is(err, errNoDraft) {
				if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > draftTTL {
					os.RemoveAll(d.dir(e.Name()))
				}
			}
			continue
		}
		if dr.DeliveryID == 0 && time.Since(dr.Touched) > draftTTL {
			d.remove(dr.ID)
		}
	}
}

// sent lists the drafts that were sent, for sweepSent.
func (d *drafts) sent() []*draft {
	ents, _ := os.ReadDir(filepath.Join(d.root, "drafts"))
	var out []*draft
	for _, e := range ents {
		if dr, err := d.load(e.Name()); err == nil && dr.DeliveryID != 0 {
			out = append(out, dr)
		}
	}
	return out
}

// savedDir is the folder of the files of a delivery saved from the console.
func (d *drafts) savedDir(name string) string { return filepath.Join(d.root, "saved", name) }

// writeKept writes v as a JSON file a step keeps beside its draft, for
// readKept.
func writeKept(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// readKept reads a JSON file a step keeps beside its draft; nil when it is
// missing or damaged, which sends the person back through that step.
func readKept[T any](path string) *T {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var v T
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	return &v
}
