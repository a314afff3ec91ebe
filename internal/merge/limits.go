package merge

import (
	"bytes"
	"errors"
	"fmt"
	"text/template/parse"
	"time"
	"unicode/utf8"
)

// HardMaxBytes bounds one message when the account sets no size limit:
// the largest any provider takes (Exchange Online at its most). Merged
// text and attached files are refused past it before they are held whole.
const HardMaxBytes = 150 << 20

// RenderTimeout bounds the time filling in one recipient's message may
// take. Only a template that loops ({{range}}) or calls templates
// ({{template}}) can take long; they check it as they go.
var RenderTimeout = 10 * time.Second

// cappedBuffer is the renderer's buffer: a write that would take it past
// limit fails with ErrTooLarge, which stops the template there, so a
// 200 MB field or an endless loop is refused at the limit, not after.
type cappedBuffer struct {
	bytes.Buffer
	limit int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.limit {
		return 0, b.full()
	}
	return b.Buffer.Write(p)
}

func (b *cappedBuffer) WriteString(s string) (int, error) {
	if b.Len()+len(s) > b.limit {
		return 0, b.full()
	}
	return b.Buffer.WriteString(s)
}

func (b *cappedBuffer) full() error {
	return &limitError{err: ErrTooLarge, limit: b.limit, words: fmt.Sprintf("it stopped at the message size limit of %d bytes", b.limit)}
}

// limitError is ErrTooLarge or ErrTooSlow with the limit in words.
type limitError struct {
	err   error
	limit int // bytes, for ErrTooLarge
	words string
}

func (e *limitError) Error() string { return e.words }
func (e *limitError) Unwrap() error { return e.err }

// checkText refuses a merge field's value that a message cannot carry as
// text: NUL and other control characters (tab and line breaks aside; an
// ESC would even switch an ISO-2022-JP message's character set), and
// bytes that are not UTF-8.
func checkText(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= ' ' && c != 0x7f || c == '\t' || c == '\n' || c == '\r' {
			continue
		}
		if c == 0 {
			return errors.New("contains a NUL byte (binary data), which a message cannot carry")
		}
		return fmt.Errorf("contains a control character (U+%04X), which a message cannot carry", c)
	}
	if !utf8.ValidString(s) {
		return errors.New("is not valid text (bytes that are not UTF-8): check the list's encoding (--encoding)")
	}
	return nil
}

// hasLoops reports whether n loops or calls a template: the only ways a
// template's running time can grow beyond its size.
func hasLoops(n parse.Node) bool {
	found := false
	walk(n, func(n parse.Node) {
		switch n.(type) {
		case *parse.RangeNode, *parse.TemplateNode:
			found = true
		}
	})
	return found
}

// walk calls f on n and every node of its lists, depth first.
func walk(n parse.Node, f func(parse.Node)) {
	if n == nil {
		return
	}
	f(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, f)
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, f)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, f)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, f)
	}
}

func walkBranch(b *parse.BranchNode, f func(parse.Node)) {
	if b.List != nil {
		walk(b.List, f)
	}
	if b.ElseList != nil {
		walk(b.ElseList, f)
	}
}

// tickFunc is the function the time checks call. The call is a variable
// declaration, {{$bluemoonTick := bluemoonTick}}, which prints nothing in
// any context (html/template leaves declarations unescaped).
const tickFunc = "bluemoonTick"

func noTick() (string, error) { return "", nil }

// tickNode returns a new time-check action.
func tickNode() parse.Node {
	trees, err := parse.Parse("tick", "{{$"+tickFunc+" := "+tickFunc+"}}", "{{", "}}", map[string]any{tickFunc: noTick})
	if err != nil {
		panic(err) // a constant template
	}
	return trees["tick"].Root.Nodes[0]
}

// addTicks puts a time check at the start of every loop's body and of
// every template (a template calling itself is a loop too), so a template
// that would run for ever stops at RenderTimeout.
func (t *Template) addTicks() {
	var trees []*parse.Tree
	if t.subject != nil {
		t.subject.Funcs(map[string]any{tickFunc: noTick})
		for _, d := range t.subject.Templates() {
			trees = append(trees, d.Tree)
		}
	}
	if t.text != nil {
		t.text.Funcs(map[string]any{tickFunc: noTick})
		for _, d := range t.text.Templates() {
			trees = append(trees, d.Tree)
		}
	}
	if t.html != nil {
		t.html.Funcs(map[string]any{tickFunc: noTick})
		for _, d := range t.html.Templates() {
			trees = append(trees, d.Tree)
		}
	}
	for _, tree := range trees {
		if tree == nil || tree.Root == nil {
			continue
		}
		walk(tree.Root, func(n parse.Node) {
			if r, ok := n.(*parse.RangeNode); ok && r.List != nil {
				r.List.Nodes = append([]parse.Node{tickNode()}, r.List.Nodes...)
			}
		})
		tree.Root.Nodes = append([]parse.Node{tickNode()}, tree.Root.Nodes...)
	}
}

// cloneWithTicks gives r its own copies of the templates whose time
// checks read r's deadline.
func (r *Renderer) cloneWithTicks() {
	funcs := map[string]any{tickFunc: r.tick}
	if r.subject != nil {
		r.subject = mustClone(r.subject.Clone()).Funcs(funcs)
	}
	if r.text != nil {
		r.text = mustClone(r.text.Clone()).Funcs(funcs)
	}
	if r.html != nil {
		r.html = mustClone(r.html.Clone()).Funcs(funcs)
	}
}

func mustClone[T any](t T, err error) T {
	if err != nil {
		// Clone fails only for an html/template already executed, and the
		// Template's own copies never are.
		panic(err)
	}
	return t
}

// tick fails once the renderer's deadline has passed (looked at every 64
// calls: reading the clock costs more than a loop's turn).
func (r *Renderer) tick() (string, error) {
	r.ticks++
	if r.ticks%64 == 0 && time.Now().After(r.deadline) {
		return "", &limitError{err: ErrTooSlow, words: fmt.Sprintf("it stopped after %s", RenderTimeout)}
	}
	return "", nil
}
