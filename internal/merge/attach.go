package merge

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/fileerr"
	"github.com/bluemoon-mail/bluemoon/internal/home"
	"github.com/bluemoon-mail/bluemoon/internal/safefile"
)

// A recipient list comes from other people, and its attachment column is
// a file name that bluemoon reads and mails out. So a name there is only
// ever a file inside the attachments folder (the list's folder, or
// --attach-dir): relative, without "..", still inside after symbolic
// links are followed, a plain file (not /dev/zero, a FIFO or a folder),
// never in bluemoon's data folder, and no larger than the message may be.

// DefaultAttachDir sets spec.AttachDir to the list's folder when the
// template has an attachment column and no folder was named, and makes it
// absolute: a delivery resumed later, from another folder, must look in
// the same place.
func DefaultAttachDir(spec *Spec, listPath string) {
	if spec.AttachColumn == "" {
		return
	}
	dir := spec.AttachDir
	if dir == "" {
		dir = filepath.Dir(listPath)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		spec.AttachDir = abs
	}
}

// attachRoot resolves the attachments folder once, symbolic links
// included, so that every file can be checked against its real path.
func attachRoot(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("an attachment column needs a folder for its files (--attach-dir)")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("--attach-dir %s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("--attach-dir %s (the folder the attachment column's files are in): %w", dir, fileerr.Explain(err))
	}
	if fi, err := os.Stat(real); err == nil && !fi.IsDir() {
		return "", fmt.Errorf("--attach-dir %s is not a folder: give the folder the attachment column's files are in", dir)
	}
	if h := home.Containing(filepath.Join(real, "x")); h != "" && !home.InUploads(filepath.Join(real, "x")) {
		return "", fmt.Errorf("attachments folder %s is inside bluemoon's data folder %s, whose files are never attached: keep attachments elsewhere", dir, h)
	}
	return real, nil
}

// loadAttachment reads the file a row names, confined as above, of at
// most limit bytes.
func (r *Renderer) loadAttachment(name string, limit int) (Attachment, error) {
	root := r.t.attachRoot
	if filepath.IsAbs(name) || filepath.VolumeName(name) != "" || strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) {
		return Attachment{}, fmt.Errorf("%q is an absolute path: name the file relative to the attachments folder %s (e.g. invoices/a.pdf)", name, root)
	}
	for _, el := range strings.Split(filepath.ToSlash(name), "/") {
		if el == ".." {
			return Attachment{}, fmt.Errorf("%q goes up out of the attachments folder (..): only files inside %s can be attached", name, root)
		}
	}
	path := filepath.Join(root, name)
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Attachment{}, &AttachError{Name: name, Code: AttachNotFound, msg: fmt.Sprintf("attachment %s not found", path)}
		}
		return Attachment{}, fmt.Errorf("attachment %s: %w", path, err)
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return Attachment{}, fmt.Errorf("%q leads outside the attachments folder %s (through a symbolic link, to %s): only files inside it can be attached", name, root, real)
	}
	if h := r.dataHome(real); h != "" {
		return Attachment{}, fmt.Errorf("%q is inside bluemoon's data folder %s, whose files are never attached", name, h)
	}
	if limit < 0 {
		limit = 0
	}
	data, err := safefile.ReadFile(real, int64(limit))
	if err != nil {
		var tl *safefile.TooLargeError
		switch {
		case errors.As(err, &tl) && tl.Size >= 0:
			return Attachment{}, &AttachError{Name: name, Code: AttachTooLarge, Size: tl.Size, Limit: int64(r.t.maxBytes),
				msg: fmt.Sprintf("attachment %s is %d bytes: the message would pass its size limit of %d bytes", path, tl.Size, r.t.maxBytes)}
		case errors.As(err, &tl):
			return Attachment{}, fmt.Errorf("attachment %s grew past the message's size limit of %d bytes while being read", path, r.t.maxBytes)
		case safefile.IsNotRegular(err):
			return Attachment{}, fmt.Errorf("attachment %w; only plain files can be attached", err)
		}
		return Attachment{}, fmt.Errorf("attachment: %w", err)
	}
	return Attachment{Filename: filepath.Base(real), ContentType: ContentTypeOf(real), Data: data}, nil
}

// dataHome returns the data home holding the file at real, or "",
// remembering the answer for its folder: a list's files are mostly in a
// few folders, and the check looks at every folder up to the root.
func (r *Renderer) dataHome(real string) string {
	dir := filepath.Dir(real)
	if r.homeDirs == nil || len(r.homeDirs) > 10000 {
		r.homeDirs = map[string]bool{}
	}
	in, ok := r.homeDirs[dir]
	if !ok {
		in = home.Containing(real) != ""
		r.homeDirs[dir] = in
	}
	if !in || home.InUploads(real) {
		return ""
	}
	return home.Containing(real)
}

// MaxTemplateBytes bounds a template file (--text, --html): real ones are
// a few kilobytes.
const MaxTemplateBytes = 16 << 20

// ReadTemplate reads a template file: a plain file (not a FIFO that
// blocks or a device that never ends) of at most MaxTemplateBytes.
func ReadTemplate(path string) (string, error) {
	b, err := safefile.ReadFile(path, MaxTemplateBytes)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// LoadAttachment reads a common attachment given on the command line. The
// user chose it, but it must still be a plain file within HardMaxBytes,
// and never one of bluemoon's secrets.
func LoadAttachment(path string) (Attachment, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return Attachment{}, fmt.Errorf("--attach: %w", fileerr.Explain(err))
	}
	if home.IsSecret(real) {
		return Attachment{}, fmt.Errorf("--attach %s: this is one of bluemoon's secrets (its keys, tokens or database), which are never attached", path)
	}
	data, err := safefile.ReadFile(real, HardMaxBytes)
	if err != nil {
		if real != path {
			return Attachment{}, fmt.Errorf("--attach %s (%s): %w", path, real, err)
		}
		return Attachment{}, fmt.Errorf("--attach: %w", err)
	}
	return Attachment{Filename: filepath.Base(path), ContentType: ContentTypeOf(path), Data: data}, nil
}

// AttachError is a file a row names that cannot be attached, for the
// cases a person fixes differently; Code says which, the text stays as
// the CLI prints it.
type AttachError struct {
	Name        string // as the row names it
	Code        string // AttachNotFound, AttachTooLarge
	Size, Limit int64  // for AttachTooLarge
	msg         string
}

// AttachError codes.
const (
	AttachNotFound = "not_found"
	AttachTooLarge = "too_large"
)

func (e *AttachError) Error() string { return e.msg }
