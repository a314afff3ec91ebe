package merge

import (
	"errors"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	texttemplate "text/template"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/home"
	"github.com/bluemoon-mail/bluemoon/internal/memprobe"
)

var attachCols = []string{"email", "name", "file"}

// attachFixture is a list folder with good files, and around it what a
// hostile list would name: a secret beside it, a symbolic link out, a
// folder, a data home inside it.
func attachFixture(t *testing.T) (listDir, outside string) {
	t.Helper()
	root := t.TempDir()
	listDir = filepath.Join(root, "lists")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(listDir, "invoices"), 0o700))
	must(os.WriteFile(filepath.Join(listDir, "invoices", "a.pdf"), []byte("%PDF-1.4 a"), 0o600))
	must(os.WriteFile(filepath.Join(listDir, "big.bin"), make([]byte, 3<<20), 0o600))
	outside = filepath.Join(root, "secret.txt")
	must(os.WriteFile(outside, []byte("not for mailing"), 0o600))
	must(os.MkdirAll(filepath.Join(listDir, "folder"), 0o700))
	// A data home that happens to sit under the list's folder.
	must(os.MkdirAll(filepath.Join(listDir, ".bluemoon", "secrets"), 0o700))
	must(os.WriteFile(filepath.Join(listDir, ".bluemoon", "bluemoon.db"), []byte("SQLite"), 0o600))
	must(os.WriteFile(filepath.Join(listDir, ".bluemoon", "secrets", "master.key"), []byte("k"), 0o600))
	if runtime.GOOS != "windows" {
		must(os.Symlink(outside, filepath.Join(listDir, "link-out")))
		must(os.Symlink(filepath.Join(listDir, "invoices", "a.pdf"), filepath.Join(listDir, "link-in")))
		must(os.Symlink("/dev/zero", filepath.Join(listDir, "zero")))
	}
	return listDir, outside
}

// A per-recipient attachment is only ever a plain file inside the list's
// folder: each way out is refused for its row, naming the reason, before
// anything is read.
func TestAttachmentsConfinedToTheListFolder(t *testing.T) {
	listDir, outside := attachFixture(t)
	tp, err := Compile(Spec{Subject: "s", Text: "t", AttachColumn: "file", AttachDir: listDir, From: "a@example.com", MaxBytes: 1 << 20},
		attachCols, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, want string
		unixOnly   bool
	}{
		{"invoices/a.pdf", "", false},
		{"link-in", "", true},
		{outside, "is an absolute path", false},
		{"/etc/passwd", "is an absolute path", false},
		{"../secret.txt", "goes up out of the attachments folder", false},
		{"invoices/../../secret.txt", "goes up out of the attachments folder", false},
		{"link-out", "leads outside the attachments folder", true},
		{"zero", "leads outside the attachments folder", true},
		{"folder", "is a folder, not a plain file", false},
		{".bluemoon/secrets/master.key", "inside bluemoon's data folder", false},
		{".bluemoon/bluemoon.db", "inside bluemoon's data folder", false},
		{"big.bin", "the message would pass its size limit", false},
		{"missing.pdf", "not found", false},
	}
	rnd := tp.NewRenderer()
	for _, c := range cases {
		if c.unixOnly && runtime.GOOS == "windows" {
			continue
		}
		var content Content
		var err error
		peak := memprobe.Peak(func() { err = rnd.Render([]string{"a@example.com", "A", c.name}, &content) })
		if c.want == "" {
			if err != nil || len(content.Attachments) != 1 || !strings.HasPrefix(string(content.Attachments[0].Data), "%PDF") {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "file" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q for the file field", c.name, err, c.want)
		}
		if peak > 2<<20 {
			t.Errorf("%s: %.1f MiB held to refuse it", c.name, memprobe.MB(peak))
		}
	}
}

// Devices and FIFOs inside the attachments folder (here: --attach-dir
// /dev, and a FIFO beside the list) are refused without reading or
// waiting.
func TestAttachmentDevicesAndFIFOsRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /dev or FIFOs")
	}
	dir := t.TempDir()
	if err := mkfifo(filepath.Join(dir, "pipe")); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, c := range []struct{ dir, name, want string }{
		{"/dev", "zero", "is a device, not a plain file"},
		{dir, "pipe", "is a named pipe (FIFO), not a plain file"},
	} {
		tp, err := Compile(Spec{Subject: "s", Text: "t", AttachColumn: "file", AttachDir: c.dir, From: "a@example.com"}, attachCols, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		var peak uint64
		go func() {
			var content Content
			var err error
			peak = memprobe.Peak(func() { err = tp.NewRenderer().Render([]string{"a@example.com", "A", c.name}, &content) })
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s/%s: %v", c.dir, c.name, err)
			}
			t.Logf("%s/%s: peak %.1f MiB: %v", c.dir, c.name, memprobe.MB(peak), err)
			if peak > 2<<20 {
				t.Errorf("%s/%s: %.1f MiB", c.dir, c.name, memprobe.MB(peak))
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s/%s: still reading after 30 s", c.dir, c.name)
		}
	}
}

// The attachments folder itself may not be in a data home, and the
// user's own --attach may not send the home's secrets.
func TestDataHomeNeverAttached(t *testing.T) {
	listDir, _ := attachFixture(t)
	_, err := Compile(Spec{Subject: "s", Text: "t", AttachColumn: "file", AttachDir: filepath.Join(listDir, ".bluemoon"), From: "a@example.com"}, attachCols, 0, nil)
	if err == nil || !strings.Contains(err.Error(), "inside bluemoon's data folder") {
		t.Errorf("--attach-dir in the home: %v", err)
	}
	if _, err := LoadAttachment(filepath.Join(listDir, ".bluemoon", "secrets", "master.key")); err == nil || !strings.Contains(err.Error(), "secrets") {
		t.Errorf("--attach master.key: %v", err)
	}
	if _, err := LoadAttachment(filepath.Join(listDir, "folder")); err == nil || !strings.Contains(err.Error(), "is a folder, not a plain file") {
		t.Errorf("--attach a folder: %v", err)
	}
	if runtime.GOOS != "windows" {
		if _, err := LoadAttachment("/dev/zero"); err == nil || !strings.Contains(err.Error(), "is a device") {
			t.Errorf("--attach /dev/zero: %v", err)
		}
	}
	if a, err := LoadAttachment(filepath.Join(listDir, "invoices", "a.pdf")); err != nil || a.Filename != "a.pdf" {
		t.Errorf("--attach a plain file: %v", err)
	}
}

// An --attach-dir that is not there, or is a file, is refused once with
// the flag's name, not as "…/a.pdf: not a directory" on every row.
func TestAttachDirMustBeAFolder(t *testing.T) {
	listDir, outside := attachFixture(t)
	for dir, want := range map[string]string{
		filepath.Join(listDir, "no-such-folder"): "no such",
		outside:                                  "not a folder",
	} {
		_, err := Compile(Spec{Subject: "s", Text: "t", AttachColumn: "file", AttachDir: dir, From: "a@example.com"}, attachCols, 0, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "--attach-dir "+dir) || !strings.Contains(err.Error(), want) {
			t.Errorf("--attach-dir %s: %v", dir, err)
		}
	}
}

// Rendering stops at the size limit while it writes: a field as long as
// a list allows (4 MiB), or a loop, is refused at the limit (256 KiB)
// without the rest of the message being built.
func TestRenderingStopsAtTheSizeLimit(t *testing.T) {
	huge := strings.Repeat("x", 4<<20)
	for _, src := range []string{"Dear {{.name}}", "{{if .name}}{{.name}}{{end}}", "{{range 100000000}}spam {{end}}"} {
		tp, err := Compile(Spec{Subject: "s", Text: src, From: "a@example.com", MaxBytes: 256 << 10}, cols, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		var c Content
		peak := memprobe.Peak(func() { err = tp.NewRenderer().Render([]string{"a@example.com", huge, ""}, &c) })
		var te *TemplateError
		if !errors.As(err, &te) || te.Kind != KindTooLarge || te.Part != "text body" || c.Text != "" {
			t.Errorf("%q: %v (text %d bytes)", src, err, len(c.Text))
		}
		t.Logf("%q: peak %.1f MiB", src, memprobe.MB(peak))
		if peak > 16<<20 {
			t.Errorf("%q: %.1f MiB held", src, memprobe.MB(peak))
		}
	}
}

// A template that would run for ever stops at the time limit, and the
// checks that make it stop print nothing, in text or in HTML.
func TestRenderingStopsAtTheTimeLimit(t *testing.T) {
	old := RenderTimeout
	RenderTimeout = 300 * time.Millisecond
	defer func() { RenderTimeout = old }()
	for _, spec := range []Spec{
		{Subject: "s", Text: "{{range 1000000000}}{{range 1000000000}}{{end}}{{end}}"},
		{Subject: "s", HTML: "<p>{{range 1000000000}}{{range 1000000000}}{{end}}{{end}}</p>"},
		{Subject: `{{define "a"}}{{template "a" .}}{{template "a" .}}{{end}}{{template "a" .}}`, Text: "t"},
	} {
		spec.From = "a@example.com"
		tp, err := Compile(spec, cols, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			var c Content
			done <- tp.NewRenderer().Render([]string{"a@example.com", "A", ""}, &c)
		}()
		select {
		case err := <-done:
			var te *TemplateError
			// Calling itself twice over ends at the time limit, or at
			// text/template's depth limit, whichever comes first.
			recursive := strings.Contains(spec.Subject, "define")
			if !errors.As(err, &te) || te.Kind != KindTooSlow && !(recursive && te.Kind == KindRender) {
				t.Errorf("%+v: %v", spec, err)
			}
			t.Logf("%v", err)
		case <-time.After(time.Minute):
			t.Fatalf("%+v: still rendering after a minute", spec)
		}
	}
	// Loops that end render exactly as text/template and html/template
	// print them without the checks.
	data := map[string]string{"email": "a@example.com", "name": "A&B", "note": ""}
	for _, c := range []struct{ text, html string }{
		{"{{range 3}}ab{{end}}", ""},
		{`{{define "b"}}[{{.}}]{{end}}{{range $i := 3}}{{template "b" $i}}{{end}}`, ""},
		{"", "<script>var a = [{{range 2}}{{$.name}},{{end}}];</script>"},
		{"", `<a href="/x?{{range 2}}n={{$.name}}&amp;{{end}}">{{range 1}}<b>{{$.name}}</b>{{end}}</a>`},
	} {
		tp, err := Compile(Spec{Subject: "s", Text: c.text, HTML: c.html, From: "a@example.com"}, cols, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got Content
		if err := tp.NewRenderer().Render([]string{"a@example.com", "A&B", ""}, &got); err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		if c.text != "" {
			texttemplate.Must(texttemplate.New("t").Parse(c.text)).Execute(&want, data)
		} else {
			htmltemplate.Must(htmltemplate.New("h").Parse(c.html)).Execute(&want, data)
		}
		if out := got.Text + got.HTML; out != want.String() || out == "" {
			t.Errorf("%q%q: %q, want %q", c.text, c.html, out, want.String())
		}
	}
}

// NUL, control characters and bytes that are not UTF-8 in a merge field
// refuse that row; an unused column may hold anything.
func TestBinaryMergeFieldsRefusedForTheRow(t *testing.T) {
	tp := compile(t, Spec{Subject: "Hi {{.name}}", Text: "Dear {{.name}}"})
	for in, want := range map[string]string{
		"Bob\x00":     "NUL byte",
		"Bob\x1b$B":   "control character (U+001B)",
		"Bob\x07":     "control character (U+0007)",
		"Bob\xff\xfe": "not valid text",
	} {
		var c Content
		err := tp.NewRenderer().Render([]string{"a@example.com", in, ""}, &c)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "name" || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v", in, err)
		}
	}
	var c Content
	if err := tp.NewRenderer().Render([]string{"a@example.com", "Bob\tSmith\r\n", "\x00\xff"}, &c); err != nil {
		t.Errorf("tab and line breaks, and binary in an unused column: %v", err)
	}
	// A column printed as {{index . "note"}} is as used as {{.note}}.
	tp = compile(t, Spec{Subject: "Hi", Text: `Dear {{index . "note"}}`})
	var fe *FieldError
	if err := tp.NewRenderer().Render([]string{"a@example.com", "Bob", "x\x00"}, &c); !errors.As(err, &fe) || fe.Field != "note" {
		t.Errorf("NUL in a column read with index: %v", err)
	}
}

// Template mistakes are named by part, line and field, in words.
func TestTemplateErrorsInWords(t *testing.T) {
	cases := []struct {
		spec  Spec
		part  string
		line  int
		field string
		kind  ErrorKind
		words string
	}{
		{Spec{Subject: "Hi {{.nmae}}", Text: "x"}, "subject", 1, "nmae", KindUnknownField, "subject, line 1: {{.nmae}} is not a column of the list"},
		{Spec{Subject: "Hi", Text: "a\nb\n{{.name}} {{.nme}}\n{{.x}}"}, "text body", 3, "nme", KindUnknownField, "nor are {{.x}}"},
		{Spec{Subject: "Hi", Text: "a\n{{if .name}}b"}, "text body", 2, "", KindUnclosed, "not closed with {{end}}"},
		{Spec{Subject: "Hi", HTML: "<p>\n\n{{end}}"}, "HTML body", 3, "", KindUnexpectedEnd, "has no {{if}}"},
		{Spec{Subject: "Hi {{name}}", Text: "x"}, "subject", 1, "", KindUnknownFunction, "a merge field is written with a dot: {{.name}}"},
		{Spec{Subject: "Hi {{.name}", Text: "x"}, "subject", 1, "", KindSyntax, "is a } missing?"},
		{Spec{Subject: "Hi", Text: "x\n{{.name"}, "text body", 2, "", KindSyntax, "does not parse"},
		// A column named the way the docs give for names with spaces: a
		// typo was printed empty in every message, never refused.
		{Spec{Subject: `Hi {{index . "company name"}}`, Text: "x"}, "subject", 1, "company name", KindUnknownField,
			`subject, line 1: {{index . "company name"}} is not a column of the list`},
		{Spec{Subject: "Hi", HTML: "<p>\n{{with .name}}{{end}}{{index . \"nmae\" | html}}</p>"}, "HTML body", 2, "nmae", KindUnknownField,
			`{{.nmae}} is not a column`},
		// Refused once, not as a problem of every row.
		{Spec{Subject: "Hi", Text: "a\n{{template \"footer\"}}"}, "text body", 2, "", KindSyntax, `{{template "footer"}} names no template`},
	}
	for _, c := range cases {
		c.spec.From = "a@example.com"
		_, err := Compile(c.spec, cols, 0, nil)
		var te *TemplateError
		if !errors.As(err, &te) || te.Part != c.part || te.Line != c.line || te.Field != c.field || te.Kind != c.kind {
			t.Errorf("%+v: %#v", c.spec, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.words) || strings.Contains(msg, "template:") {
			t.Errorf("%+v: %q, want words like %q and not Go's text", c.spec, msg, c.words)
		}
	}
	// At render time: which part and line, and the field.
	tp := compile(t, Spec{Subject: "s", Text: "a\n{{index .name 5}}"})
	var c Content
	err := tp.NewRenderer().Render([]string{"a@example.com", "ab", ""}, &c)
	var te *TemplateError
	if !errors.As(err, &te) || te.Kind != KindRender || te.Part != "text body" || te.Line != 2 || !strings.Contains(err.Error(), "index out of range") {
		t.Errorf("render error: %#v", err)
	}
	_, err = Compile(Spec{Subject: "s", HTML: "<a href='{{.name}}>", From: "a@example.com"}, cols, 0, nil)
	if err == nil {
		tp, _ := Compile(Spec{Subject: "s", HTML: "<a href='{{.name}}>", From: "a@example.com"}, cols, 0, nil)
		err = tp.NewRenderer().Render([]string{"a@example.com", "ab", ""}, &c)
	}
	if !errors.As(err, &te) || te.Kind != KindHTMLContext || te.Part != "HTML body" {
		t.Errorf("ambiguous HTML: %#v", err)
	}
}

// A From name from settings with a line break would be a header of its
// own: refused, naming the field.
func TestFromNameWithControlCharactersRefused(t *testing.T) {
	for _, name := range []string{"News\r\nBcc: victim@example.org", "News\x00", "News\tLetter"} {
		_, err := Compile(Spec{Subject: "s", Text: "t", From: "a@example.com", FromName: name}, cols, 0, nil)
		if err == nil || !strings.Contains(err.Error(), "From name") || !strings.Contains(err.Error(), "control character") {
			t.Errorf("%q: %v", name, err)
		}
	}
}

// A template file is a plain file of a sane size: --text /dev/zero or a
// FIFO is refused at once, and a missing file says "open" as before.
func TestReadTemplateIsBounded(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "body.txt")
	os.WriteFile(p, []byte("Dear {{.name}}"), 0o600)
	if s, err := ReadTemplate(p); err != nil || s != "Dear {{.name}}" {
		t.Fatalf("%q %v", s, err)
	}
	if _, err := ReadTemplate(filepath.Join(dir, "none.txt")); err == nil || !strings.HasPrefix(err.Error(), "open ") {
		t.Errorf("missing: %v", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	fifo := filepath.Join(dir, "pipe")
	for p, want := range map[string]string{"/dev/zero": "is a device", fifo: "named pipe"} {
		if p == fifo && mkfifo(fifo) != nil {
			continue
		}
		if _, err := ReadTemplate(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// The web console keeps a person's uploads in its folder of the home:
// files there may be attached, still only from inside the attachments
// folder (nothing climbs from there to the home's secrets).
func TestConsoleUploadsMayBeAttached(t *testing.T) {
	h := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(h, "bluemoon.db"), []byte("SQLite"), 0o600))
	dir := filepath.Join(h, home.UploadsDir, "drafts", "d1", "list")
	must(os.MkdirAll(dir, 0o700))
	must(os.WriteFile(filepath.Join(dir, "a.pdf"), []byte("%PDF a"), 0o600))
	tp, err := Compile(Spec{Subject: "s", Text: "t", AttachColumn: "file", AttachDir: dir, From: "a@example.com"}, attachCols, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var c Content
	if err := tp.NewRenderer().Render([]string{"a@example.com", "A", "a.pdf"}, &c); err != nil || len(c.Attachments) != 1 {
		t.Fatalf("an uploaded file: %v", err)
	}
	if err := tp.NewRenderer().Render([]string{"a@example.com", "A", "../../../../bluemoon.db"}, &c); err == nil || !strings.Contains(err.Error(), "goes up out of") {
		t.Fatalf("climbing to the database: %v", err)
	}
}
