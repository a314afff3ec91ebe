// Package merge turns a delivery's template and one recipient row into the
// message that recipient gets: subject and text body through text/template,
// the HTML body through html/template (so merged values are escaped), common
// attachments and one named in a column of the row.
package merge

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	texttemplate "text/template"
	"text/template/parse"

	"github.com/bluemoon-mail/bluemoon/internal/message"
)

// Spec is what the user wrote: it is stored with the delivery.
type Spec struct {
	Subject      string `json:"subject"`
	Text         string `json:"text,omitempty"`
	HTML         string `json:"html,omitempty"`
	Charset      string `json:"charset,omitempty"`       // utf-8 (default) or iso-2022-jp
	AttachColumn string `json:"attach_column,omitempty"` // column naming a per-recipient file
	AttachDir    string `json:"attach_dir,omitempty"`    // relative names in that column are under it
	From         string `json:"from"`
	FromName     string `json:"from_name,omitempty"`
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
	emailIdx              int
	attachIdx             int
	common                []Attachment
}

// FieldError is a problem with one field of one row.
type FieldError struct {
	Field string
	Err   error
}

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
	t := &Template{spec: spec, columns: columns, emailIdx: emailIdx, attachIdx: -1}
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
			return nil, fmt.Errorf("--attach-column %q is not a column of the list (%s)", spec.AttachColumn, strings.Join(columns, ", "))
		}
		t.attachIdx = i
	}
	used := map[string]bool{}
	direct := map[string]bool{}
	if t.subject, err = texttemplate.New("subject").Option("missingkey=error").Parse(spec.Subject); err != nil {
		return nil, fmt.Errorf("--subject: %w", err)
	}
	collectFields(t.subject.Tree.Root, used, direct)
	if spec.Text != "" {
		if t.text, err = texttemplate.New("text").Option("missingkey=error").Parse(spec.Text); err != nil {
			return nil, fmt.Errorf("text body: %w", err)
		}
		collectFields(t.text.Tree.Root, used, direct)
	}
	if spec.HTML != "" {
		if t.html, err = htmltemplate.New("html").Option("missingkey=error").Parse(spec.HTML); err != nil {
			return nil, fmt.Errorf("HTML body: %w", err)
		}
		collectFields(t.html.Tree.Root, used, direct)
	}
	var unknown []string
	for f := range used {
		if _, ok := known[f]; !ok {
			unknown = append(unknown, f)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("the template uses %s but the list has no such column (columns: %s)",
			"{{."+strings.Join(unknown, "}}, {{.")+"}}", strings.Join(columns, ", "))
	}
	for f := range direct {
		t.required = append(t.required, known[f])
	}
	sort.Ints(t.required)
	t.subjectPlan = planOf(t.subject.Tree, known)
	if t.text != nil {
		t.textPlan = planOf(t.text.Tree, known)
	}
	return t, nil
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

func (r *Renderer) join(p plan, fields []string) string {
	r.buf.Reset()
	for _, part := range p {
		if part.col >= 0 {
			r.buf.WriteString(fields[part.col])
		} else {
			r.buf.WriteString(part.text)
		}
	}
	return r.buf.String()
}

// collectFields notes every {{.field}} the template reads (used) and those
// it prints as they are (direct): an empty value of a printed field is a
// typo in the list, one tested with {{if .x}} or {{or .x "…"}} is not.
func collectFields(n parse.Node, used, direct map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			collectFields(c, used, direct)
		}
	case *parse.ActionNode:
		if len(n.Pipe.Cmds) == 1 && len(n.Pipe.Cmds[0].Args) == 1 {
			if f, ok := n.Pipe.Cmds[0].Args[0].(*parse.FieldNode); ok && len(f.Ident) == 1 && direct != nil {
				direct[f.Ident[0]] = true
			}
		}
		collectFields(n.Pipe, used, direct)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			collectFields(c, used, direct)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			collectFields(a, used, direct)
		}
	case *parse.FieldNode:
		used[n.Ident[0]] = true
	case *parse.IfNode:
		// Inside a condition a field may be empty: the template allowed for it.
		collectFields(n.Pipe, used, nil)
		collectFields(n.List, used, nil)
		collectFields(n.ElseList, used, nil)
	case *parse.RangeNode:
		// Inside a condition a field may be empty: the template allowed for it.
		collectFields(n.Pipe, used, nil)
		collectFields(n.List, used, nil)
		collectFields(n.ElseList, used, nil)
	case *parse.WithNode:
		// Inside a condition a field may be empty: the template allowed for it.
		collectFields(n.Pipe, used, nil)
		collectFields(n.List, used, nil)
		collectFields(n.ElseList, used, nil)
	}
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

	to [1]message.Address // Message's To, reused
}

// Renderer renders rows one after another, reusing its buffers: one per
// worker goroutine.
type Renderer struct {
	t    *Template
	data map[string]string
	buf  bytes.Buffer
}

// NewRenderer returns a renderer of t.
func (t *Template) NewRenderer() *Renderer {
	return &Renderer{t: t, data: make(map[string]string, len(t.columns))}
}

// Render merges fields (one value per column) into c. A problem is a
// *FieldError naming the field.
func (r *Renderer) Render(fields []string, c *Content) error {
	t := r.t
	if len(fields) != len(t.columns) {
		return fmt.Errorf("row has %d cells, the header has %d", len(fields), len(t.columns))
	}
	if t.subjectPlan == nil || t.text != nil && t.textPlan == nil || t.html != nil {
		for i, col := range t.columns {
			r.data[col] = fields[i]
		}
	}
	for _, i := range t.required {
		if strings.TrimSpace(fields[i]) == "" {
			return &FieldError{Field: t.columns[i], Err: errors.New("is empty but the template prints it")}
		}
	}
	c.To = strings.TrimSpace(fields[t.emailIdx])
	var err error
	if t.subjectPlan != nil {
		c.Subject = r.join(t.subjectPlan, fields)
	} else if c.Subject, err = r.exec(t.subject.Execute); err != nil {
		return err
	}
	if strings.ContainsAny(c.Subject, "\r\n") {
		c.Subject = strings.Join(strings.Fields(c.Subject), " ")
	}
	c.Text, c.HTML = "", ""
	if t.textPlan != nil {
		c.Text = r.join(t.textPlan, fields)
	} else if t.text != nil {
		if c.Text, err = r.exec(t.text.Execute); err != nil {
			return err
		}
	}
	if t.html != nil {
		if c.HTML, err = r.exec(t.html.Execute); err != nil {
			return err
		}
	}
	c.Attachments = append(c.Attachments[:0], t.common...)
	if t.attachIdx >= 0 {
		name := strings.TrimSpace(fields[t.attachIdx])
		if name != "" {
			a, err := t.loadAttachment(name)
			if err != nil {
				return &FieldError{Field: t.columns[t.attachIdx], Err: err}
			}
			c.Attachments = append(c.Attachments, a)
		}
	}
	return nil
}

func (r *Renderer) exec(run func(w io.Writer, data any) error) (string, error) {
	r.buf.Reset()
	if err := run(&r.buf, r.data); err != nil {
		return "", templateError(err)
	}
	return r.buf.String(), nil
}

// templateError names the field in text/template's "map has no entry for
// key" and keeps the rest of the message.
func templateError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, `map has no entry for key "`); i >= 0 {
		rest := msg[i+len(`map has no entry for key "`):]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			return &FieldError{Field: rest[:j], Err: errors.New("missing for this row")}
		}
	}
	return fmt.Errorf("template: %w", err)
}

func (t *Template) loadAttachment(name string) (Attachment, error) {
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(t.spec.AttachDir, name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return Attachment{}, fmt.Errorf("attachment %s not found", path)
		}
		return Attachment{}, fmt.Errorf("attachment: %w", err)
	}
	return Attachment{Filename: filepath.Base(path), ContentType: ContentTypeOf(path), Data: data}, nil
}

// LoadAttachment reads a common attachment given on the command line.
func LoadAttachment(path string) (Attachment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Attachment{}, fmt.Errorf("--attach %s: %w", path, err)
	}
	return Attachment{Filename: filepath.Base(path), ContentType: ContentTypeOf(path), Data: data}, nil
}
