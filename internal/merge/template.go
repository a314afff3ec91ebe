// Package merge turns a delivery's template and one recipient row into the
// message that recipient gets: subject and text body through text/template,
// the HTML body through html/template (so merged values are escaped), common
// attachments and one named in a column of the row.
package merge

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"sort"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"time"
	"unicode"
	"unsafe"

	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// Spec is what the user wrote: it is stored with the delivery.
type Spec struct {
	Subject      string `json:"subject"`
	Text         string `json:"text,omitempty"`
	HTML         string `json:"html,omitempty"`
	Charset      string `json:"charset,omitempty"`       // utf-8 (default) or iso-2022-jp
	AttachColumn string `json:"attach_column,omitempty"` // column naming a per-recipient file
	// AttachDir is the folder the column's files must be in (the list's
	// folder unless --attach-dir names another): names are relative to
	// it, and nothing outside it is ever attached.
	AttachDir string `json:"attach_dir,omitempty"`
	From      string `json:"from"`
	FromName  string `json:"from_name,omitempty"`
	// MaxBytes is the size limit of one message (the account's); 0 means
	// HardMaxBytes. Rendering stops at it.
	MaxBytes int `json:"max_bytes,omitempty"`
}

// Template is a Spec parsed once for a list with the given columns; Render
// is then called once per row and is safe for concurrent use.
type Template struct {
	spec    Spec
	columns []string
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
	// subjectPlan, textPlan: the templates as literal text and columns when
	// that is all they are (nil otherwise).
	subjectPlan, textPlan plan
	required              []int // columns written out directly: an empty cell is an error for the row
	used                  []int // columns the template reads, and the attachment column: checked for binary bytes
	emailIdx              int
	attachIdx             int
	attachRoot            string // AttachDir with symbolic links resolved
	common                []Attachment
	maxBytes              int
	// ticked: the templates loop or call templates, so their execution
	// checks the time limit as it goes (see limits.go).
	ticked bool
}

// FieldError is a problem with one field of one row.
type FieldError struct {
	Field string
	Err   error
}

// The two ways a row lacks a field the template prints.
var (
	ErrFieldEmpty   = errors.New("is empty but the template prints it")
	ErrFieldMissing = errors.New("missing for this row")
)

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %v", e.Field, e.Err) }
func (e *FieldError) Unwrap() error { return e.Err }

// Compile parses spec for a list whose header is columns, with emailIdx the
// address column. A template naming a field that is not a column is
// refused here, once, rather than on every row.
func Compile(spec Spec, columns []string, emailIdx int, common []Attachment) (*Template, error) {
	if strings.TrimSpace(spec.Subject) == "" {
		return nil, errors.New("--subject is empty")
	}
	if spec.Text == "" && spec.HTML == "" {
		return nil, errors.New("give a body: --text FILE and/or --html FILE")
	}
	cs, err := message.NormalizeCharset(spec.Charset)
	if err != nil {
		return nil, fmt.Errorf("--charset %q: use utf-8 or iso-2022-jp", spec.Charset)
	}
	spec.Charset = cs
	if err := message.CheckHeaderText("From name", spec.FromName); err != nil {
		return nil, err
	}
	t := &Template{spec: spec, columns: columns, emailIdx: emailIdx, attachIdx: -1, maxBytes: spec.MaxBytes}
	if t.maxBytes <= 0 || t.maxBytes > HardMaxBytes {
		t.maxBytes = HardMaxBytes
	}
	// Every message carries the common attachments: encode them once.
	for _, a := range common {
		t.common = append(t.common, a.Prepared())
	}
	known := map[string]int{}
	for i, c := range columns {
		known[c] = i
	}
	if spec.AttachColumn != "" {
		i, ok := known[spec.AttachColumn]
		if !ok {
			return nil, fmt.Errorf("--attach-column %q is not a column of the list (%s)", spec.AttachColumn, recipients.ColumnList(columns))
		}
		t.attachIdx = i
		if t.attachRoot, err = attachRoot(spec.AttachDir); err != nil {
			return nil, err
		}
	}
	used := map[string]bool{}
	direct := map[string]bool{}
	var unknown []fieldUse
	parts := []struct {
		name, src string
		parse     func(name, src string) (map[string]*parse.Tree, error)
	}{
		{"subject", spec.Subject, t.parseText(&t.subject)},
		{"text", spec.Text, t.parseText(&t.text)},
		{"html", spec.HTML, t.parseHTML},
	}
	for _, p := range parts {
		if p.src == "" {
			continue
		}
		if i := strings.IndexByte(p.src, 0); i >= 0 {
			return nil, &TemplateError{Part: partName(p.name), Line: lineOf(p.src, i), Kind: KindSyntax, Detail: "it holds a NUL byte: is it a text file?"}
		}
		trees, err := p.parse(p.name, p.src)
		if err != nil {
			return nil, templateErr(p.name, err)
		}
		for _, tree := range trees {
			if tree.Root == nil {
				continue
			}
			uses := map[string]parse.Pos{}
			collectFields(tree.Root, used, direct, uses)
			for f, pos := range uses {
				if _, ok := known[f]; !ok {
					unknown = append(unknown, fieldUse{part: p.name, field: f, line: lineOf(p.src, int(pos))})
				}
			}
			if hasLoops(tree.Root) {
				t.ticked = true
			}
			if name, pos, ok := undefinedTemplate(tree.Root, trees); ok {
				return nil, &TemplateError{Part: partName(p.name), Line: lineOf(p.src, int(pos)), Kind: KindSyntax,
					Detail: fmt.Sprintf("{{template %q}} names no template defined here (with {{define %q}}…{{end}})", name, name)}
			}
		}
	}
	if len(unknown) > 0 {
		return nil, unknownFields(unknown, columns)
	}
	for f := range direct {
		t.required = append(t.required, known[f])
	}
	sort.Ints(t.required)
	for f := range used {
		t.used = append(t.used, known[f])
	}
	if t.attachIdx >= 0 && !used[spec.AttachColumn] {
		t.used = append(t.used, t.attachIdx)
	}
	sort.Ints(t.used)
	t.subjectPlan = planOf(t.subject.Tree, known)
	if t.text != nil {
		t.textPlan = planOf(t.text.Tree, known)
	}
	if t.ticked {
		t.addTicks()
	}
	return t, nil
}

// parseText returns a parser that sets *dst to the text/template parsed.
func (t *Template) parseText(dst **texttemplate.Template) func(name, src string) (map[string]*parse.Tree, error) {
	return func(name, src string) (map[string]*parse.Tree, error) {
		tp, err := texttemplate.New(name).Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, err
		}
		*dst = tp
		trees := map[string]*parse.Tree{}
		for _, d := range tp.Templates() {
			trees[d.Name()] = d.Tree
		}
		return trees, nil
	}
}

func (t *Template) parseHTML(name, src string) (map[string]*parse.Tree, error) {
	tp, err := htmltemplate.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, err
	}
	t.html = tp
	trees := map[string]*parse.Tree{}
	for _, d := range tp.Templates() {
		trees[d.Name()] = d.Tree
	}
	return trees, nil
}

// fieldUse is a {{.field}} found in a part, at a line.
type fieldUse struct {
	part, field string
	line        int
}

// unknownFields is the error for template fields the list has no column
// for: the first in the template's order, with the others named.
func unknownFields(unknown []fieldUse, columns []string) error {
	order := map[string]int{"subject": 0, "text": 1, "html": 2}
	sort.Slice(unknown, func(i, j int) bool {
		a, b := unknown[i], unknown[j]
		if a.part != b.part {
			return order[a.part] < order[b.part]
		}
		if a.line != b.line {
			return a.line < b.line
		}
		return a.field < b.field
	})
	first := unknown[0]
	e := &TemplateError{Part: partName(first.part), Line: first.line, Field: first.field, Kind: KindUnknownField}
	var others []string
	seen := map[string]bool{first.field: true}
	for _, u := range unknown[1:] {
		if !seen[u.field] {
			seen[u.field] = true
			others = append(others, fieldRef(u.field))
		}
	}
	e.Detail = "the columns are " + recipients.ColumnList(columns)
	if len(others) > 0 {
		e.Detail = "nor are " + strings.Join(others, ", ") + "; " + e.Detail
	}
	return e
}

// lineOf is the 1-based line of byte offset off in src.
func lineOf(src string, off int) int {
	if off > len(src) {
		off = len(src)
	}
	return 1 + strings.Count(src[:off], "\n")
}

// plan is a text template made only of literal text and {{.column}}, the
// usual subject and body: Render then joins the pieces instead of running
// text/template, whose reflection was most of a message's rendering cost.
// The result is the same, since text/template prints a string field as it
// is. (HTML always goes through html/template, which escapes by context.)
type plan []planPart

type planPart struct {
	text string
	col  int // the column to print, or -1 for text
}

// planOf returns the plan of tree, or nil when it does more than print
// text and columns (conditions, pipelines, functions).
func planOf(tree *parse.Tree, known map[string]int) plan {
	if tree == nil || tree.Root == nil {
		return nil
	}
	p := plan{}
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			p = append(p, planPart{text: string(n.Text), col: -1})
		case *parse.ActionNode:
			if len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 {
				return nil
			}
			f, ok := n.Pipe.Cmds[0].Args[0].(*parse.FieldNode)
			if !ok || len(f.Ident) != 1 {
				return nil
			}
			i, ok := known[f.Ident[0]]
			if !ok {
				return nil
			}
			p = append(p, planPart{col: i})
		default:
			return nil
		}
	}
	return p
}

func (r *Renderer) join(part string, kept int, p plan, fields []string) (string, error) {
	n := 0
	for _, pp := range p {
		if pp.col >= 0 {
			n += len(fields[pp.col])
		} else {
			n += len(pp.text)
		}
	}
	if n > r.buf.limit {
		return "", templateErr(part, r.buf.full())
	}
	r.buf.Reset()
	r.buf.Grow(n)
	for _, pp := range p {
		if pp.col >= 0 {
			r.buf.WriteString(fields[pp.col])
		} else {
			r.buf.WriteString(pp.text)
		}
	}
	return r.result(kept), nil
}

// collectFields notes every {{.field}} the template reads (used, and in
// uses with where it first appears) and those it prints as they are
// (direct): an empty value of a printed field is a typo in the list, one
// tested with {{if .x}} or {{or .x "…"}} is not.
func collectFields(n parse.Node, used, direct map[string]bool, uses map[string]parse.Pos) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			collectFields(c, used, direct, uses)
		}
	case *parse.ActionNode:
		if len(n.Pipe.Cmds) == 1 && len(n.Pipe.Cmds[0].Args) == 1 {
			if f, ok := n.Pipe.Cmds[0].Args[0].(*parse.FieldNode); ok && len(f.Ident) == 1 && direct != nil {
				direct[f.Ident[0]] = true
			}
		}
		// {{index . "company name"}} prints its column as {{.name}} does.
		if len(n.Pipe.Cmds) == 1 && direct != nil {
			if k, _, ok := indexedColumn(n.Pipe.Cmds[0]); ok {
				direct[k] = true
			}
		}
		collectFields(n.Pipe, used, direct, uses)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			collectFields(c, used, direct, uses)
		}
	case *parse.CommandNode:
		// {{index . "company name"}}: the way to print a column whose name
		// is not an identifier, as much a use of it as {{.name}}.
		if k, pos, ok := indexedColumn(n); ok {
			used[k] = true
			if p, ok := uses[k]; !ok || pos < p {
				uses[k] = pos
			}
		}
		for _, a := range n.Args {
			collectFields(a, used, direct, uses)
		}
	case *parse.FieldNode:
		used[n.Ident[0]] = true
		if p, ok := uses[n.Ident[0]]; !ok || n.Pos < p {
			uses[n.Ident[0]] = n.Pos
		}
	case *parse.IfNode:
		// Inside a condition a field may be empty: the template allowed for it.
		collectFields(n.Pipe, used, nil, uses)
		collectFields(n.List, used, nil, uses)
		collectFields(n.ElseList, used, nil, uses)
	case *parse.RangeNode:
		// Inside a condition a field may be empty: the template allowed for it.
		collectFields(n.Pipe, used, nil, uses)
		collectFields(n.List, used, nil, uses)
		collectFields(n.ElseList, used, nil, uses)
	case *parse.WithNode:
		// Inside a condition a field may be empty: the template allowed for it.
		collectFields(n.Pipe, used, nil, uses)
		collectFields(n.List, used, nil, uses)
		collectFields(n.ElseList, used, nil, uses)
	}
}

// undefinedTemplate finds a {{template "name"}} under n that names none
// of the templates defined: it would fail on every row.
func undefinedTemplate(n parse.Node, defined map[string]*parse.Tree) (name string, pos parse.Pos, found bool) {
	walk(n, func(n parse.Node) {
		if tn, ok := n.(*parse.TemplateNode); ok && !found {
			if d, ok := defined[tn.Name]; !ok || d == nil || d.Root == nil {
				name, pos, found = tn.Name, tn.Pos, true
			}
		}
	})
	return name, pos, found
}

// indexedColumn is the column a command {{index . "name"}} reads, with
// the position of its name.
func indexedColumn(n *parse.CommandNode) (string, parse.Pos, bool) {
	if len(n.Args) != 3 {
		return "", 0, false
	}
	fn, ok := n.Args[0].(*parse.IdentifierNode)
	if !ok || fn.Ident != "index" {
		return "", 0, false
	}
	if _, ok := n.Args[1].(*parse.DotNode); !ok {
		return "", 0, false
	}
	key, ok := n.Args[2].(*parse.StringNode)
	if !ok {
		return "", 0, false
	}
	return key.Text, key.Pos, true
}

// fieldRef is how a template prints column name: {{.name}}, or
// {{index . "company name"}} for a name that is not an identifier.
func fieldRef(name string) string {
	for i, r := range name {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return fmt.Sprintf("{{index . %q}}", name)
		}
	}
	if name == "" {
		return `{{index . ""}}`
	}
	return "{{." + name + "}}"
}

// Spec returns the template's source (charset normalised).
func (t *Template) Spec() Spec { return t.spec }

// Columns returns the header the template was compiled for.
func (t *Template) Columns() []string { return t.columns }

// Content is one recipient's merged message before MIME encoding.
type Content struct {
	To          string
	Subject     string
	Text, HTML  string
	Attachments []Attachment

	// FellBack is set by Compose when a message asked for in ISO-2022-JP
	// went as UTF-8: the first character ISO-2022-JP lacks.
	FellBack *message.CharsetError

	to [1]message.Address // Message's To, reused
}

// Renderer renders rows one after another, reusing its buffers: one per
// worker goroutine.
type Renderer struct {
	t    *Template
	data map[string]string
	buf  cappedBuffer
	// The templates this renderer runs: t's own, or, when they loop,
	// copies whose time checks read this renderer's deadline.
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
	deadline      time.Time
	ticks         int
	// homeDirs caches, by folder, whether a folder is inside a data home.
	homeDirs map[string]bool
	// transient: the subject, text and HTML of a Content are kept in
	// kept (by part) and valid until the next Render (see Transient).
	transient bool
	kept      [3][]byte
}

// Parts of a message in Renderer.kept.
const (
	partSubject = iota
	partText
	partHTML
)

// Transient makes the strings r puts in a Content (subject, text, HTML)
// share r's own buffers, valid only until r's next Render: for a caller
// that composes each message before it renders the next, as a delivery
// does for every recipient — each one's texts would otherwise be
// allocated, a fifth of a send's garbage. It returns r.
func (r *Renderer) Transient() *Renderer {
	r.transient = true
	return r
}

// result is what r.buf holds, as the Content's string for part.
func (r *Renderer) result(part int) string {
	if !r.transient {
		return r.buf.String()
	}
	b := append(r.kept[part][:0], r.buf.Bytes()...)
	r.kept[part] = b
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// NewRenderer returns a renderer of t.
func (t *Template) NewRenderer() *Renderer {
	r := &Renderer{t: t, data: make(map[string]string, len(t.columns)), subject: t.subject, text: t.text, html: t.html}
	if t.ticked {
		r.cloneWithTicks()
	}
	return r
}

// Render merges fields (one value per column) into c. A problem is a
// *FieldError naming the field.
func (r *Renderer) Render(fields []string, c *Content) error {
	t := r.t
	if len(fields) != len(t.columns) {
		return fmt.Errorf("row has %d cells, the header has %d", len(fields), len(t.columns))
	}
	for _, i := range t.used {
		if err := checkText(fields[i]); err != nil {
			return &FieldError{Field: t.columns[i], Err: err}
		}
	}
	r.buf.limit = t.maxBytes
	if t.ticked {
		r.deadline = time.Now().Add(RenderTimeout)
	}
	if t.subjectPlan == nil || t.text != nil && t.textPlan == nil || t.html != nil {
		for i, col := range t.columns {
			r.data[col] = fields[i]
		}
	}
	for _, i := range t.required {
		if strings.TrimSpace(fields[i]) == "" {
			return &FieldError{Field: t.columns[i], Err: ErrFieldEmpty}
		}
	}
	c.To = strings.TrimSpace(fields[t.emailIdx])
	var err error
	if t.subjectPlan != nil {
		if c.Subject, err = r.join("subject", partSubject, t.subjectPlan, fields); err != nil {
			return err
		}
	} else if c.Subject, err = r.exec("subject", partSubject, r.subject.Execute); err != nil {
		return err
	}
	if strings.ContainsAny(c.Subject, "\r\n") {
		c.Subject = strings.Join(strings.Fields(c.Subject), " ")
	}
	c.Text, c.HTML = "", ""
	if t.textPlan != nil {
		if c.Text, err = r.join("text", partText, t.textPlan, fields); err != nil {
			return err
		}
	} else if r.text != nil {
		if c.Text, err = r.exec("text", partText, r.text.Execute); err != nil {
			return err
		}
	}
	if r.html != nil {
		if c.HTML, err = r.exec("html", partHTML, r.html.Execute); err != nil {
			return err
		}
	}
	size := len(c.Subject) + len(c.Text) + len(c.HTML)
	c.Attachments = append(c.Attachments[:0], t.common...)
	for _, a := range t.common {
		size += len(a.Data)
	}
	if t.attachIdx >= 0 {
		name := strings.TrimSpace(fields[t.attachIdx])
		if name != "" {
			a, err := r.loadAttachment(name, t.maxBytes-size)
			if err != nil {
				return &FieldError{Field: t.columns[t.attachIdx], Err: err}
			}
			c.Attachments = append(c.Attachments, a)
			size += len(a.Data)
		}
	}
	if size > t.maxBytes {
		return &TemplateError{Part: "message", Kind: KindTooLarge, Size: size, Limit: t.maxBytes,
			Detail: fmt.Sprintf("its text and files come to %d bytes, over the limit of %d", size, t.maxBytes)}
	}
	return nil
}

func (r *Renderer) exec(part string, kept int, run func(w io.Writer, data any) error) (string, error) {
	r.buf.Reset()
	if err := run(&r.buf, r.data); err != nil {
		return "", renderError(part, err)
	}
	return r.result(kept), nil
}

// renderError names the field in text/template's "map has no entry for
// key" (a *FieldError), and words every other failure (a *TemplateError).
func renderError(part string, err error) error {
	msg := err.Error()
	if i := strings.Index(msg, `map has no entry for key "`); i >= 0 {
		rest := msg[i+len(`map has no entry for key "`):]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			return &FieldError{Field: rest[:j], Err: ErrFieldMissing}
		}
	}
	return templateErr(part, err)
}
