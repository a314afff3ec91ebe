package merge

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"
)

// ErrorKind sorts template mistakes, so that a face can word each in its
// own language from the fields alone.
type ErrorKind string

const (
	KindSyntax          ErrorKind = "syntax"           // a {{ }} that does not parse
	KindUnclosed        ErrorKind = "unclosed"         // {{if}} / {{range}} / {{with}} without {{end}}
	KindUnexpectedEnd   ErrorKind = "unexpected-end"   // {{end}} without its opening
	KindUnknownField    ErrorKind = "unknown-field"    // {{.x}} where the list has no column x
	KindUnknownFunction ErrorKind = "unknown-function" // {{x}}: not a function (a field needs the dot)
	KindRender          ErrorKind = "render"           // the template failed on this row's values
	KindHTMLContext     ErrorKind = "html-context"     // HTML whose structure makes escaping ambiguous
	KindTooLarge        ErrorKind = "too-large"        // rendering passed the message size limit
	KindTooSlow         ErrorKind = "too-slow"         // rendering passed the time limit
)

// TemplateError is a mistake in the subject or a body: which part, which
// line, which field, what kind, in words a user acts on. The CLI prints
// Error(); the console can translate by Part, Line, Field and Kind.
type TemplateError struct {
	Part   string // "subject", "text body", "HTML body"
	Line   int    // 1-based line in that part; 0 when not known
	Field  string // the merge field (column) concerned, "" if none
	Kind   ErrorKind
	Detail string // English: what exactly (the function name, the token…)
	Err    error  // the template engine's own error, for logs
	// Size and Limit, for KindTooLarge: the message's bytes (0 when
	// rendering stopped at the limit, its size unknown) and the limit.
	Size, Limit int
}

func (e *TemplateError) Error() string {
	where := e.Part
	if e.Line > 0 {
		where += ", line " + strconv.Itoa(e.Line)
	}
	var what string
	switch e.Kind {
	case KindUnclosed:
		what = "an {{if}}, {{range}} or {{with}} is not closed with {{end}}"
	case KindUnexpectedEnd:
		what = "an {{end}} has no {{if}}, {{range}} or {{with}} to close"
	case KindUnknownField:
		what = fieldRef(e.Field) + " is not a column of the list"
	case KindUnknownFunction:
		what = fmt.Sprintf("%q is not something a template can call; a merge field is written with a dot: {{.%s}}", e.Detail, e.Detail)
	case KindRender:
		what = "cannot be filled in"
		if e.Field != "" {
			what += " at {{." + e.Field + "}}"
		}
	case KindHTMLContext:
		what = "the HTML around a merge field is incomplete or ambiguous, so its value cannot be escaped safely"
	case KindTooLarge:
		what = "too large"
	case KindTooSlow:
		what = "filling it in took too long (a loop that does not end?)"
	default:
		what = "a {{ }} does not parse"
	}
	if e.Detail != "" && e.Kind != KindUnknownFunction {
		what += ": " + e.Detail
	}
	return where + ": " + what
}

func (e *TemplateError) Unwrap() error { return e.Err }

// ErrTooLarge and ErrTooSlow are what rendering stops with at its limits.
var (
	ErrTooLarge = errors.New("the message passed its size limit")
	ErrTooSlow  = errors.New("rendering the message passed its time limit")
)

// partName is the words for a template's name.
func partName(name string) string {
	switch name {
	case "subject":
		return "subject"
	case "text":
		return "text body"
	case "html":
		return "HTML body"
	}
	return "template " + strconv.Quote(name)
}

var (
	// "template: text:3: function "foo" not defined", and with a column
	// after the line in execution errors.
	goTemplateErr = regexp.MustCompile(`^template: ([^:]+):(\d+)(?::\d+)?: (.*)$`)
	execAt        = regexp.MustCompile(`^executing "[^"]*" at <([^>]*)>: (.*)$`)
	fieldAt       = regexp.MustCompile(`^\.([\p{L}\p{N}_]+)`)
	funcNotDef    = regexp.MustCompile(`^function "([^"]+)" not defined$`)
)

// templateErr turns text/template's and html/template's errors about part
// (its template name: subject, text or html) into a *TemplateError in
// words. Errors of the render limits keep their kind.
func templateErr(part string, err error) error {
	e := &TemplateError{Part: partName(part), Kind: KindSyntax, Err: err}
	var le *limitError
	switch {
	case errors.As(err, &le) && errors.Is(le, ErrTooLarge):
		e.Kind, e.Detail, e.Limit = KindTooLarge, le.words, le.limit
		return e
	case errors.As(err, &le):
		e.Kind, e.Detail = KindTooSlow, le.words
		return e
	case errors.Is(err, ErrTooLarge):
		e.Kind = KindTooLarge
		return e
	}
	var he *htmltemplate.Error
	if errors.As(err, &he) {
		e.Kind, e.Line, e.Detail = KindHTMLContext, he.Line, he.Description
		if he.ErrorCode == htmltemplate.ErrEndContext {
			e.Detail = "it ends inside a tag, an attribute or a script (a quote or > is missing)"
		}
		return e
	}
	var ee texttemplate.ExecError
	exec := errors.As(err, &ee)
	m := goTemplateErr.FindStringSubmatch(err.Error())
	if m == nil {
		e.Detail = err.Error()
		if exec {
			e.Kind = KindRender
		}
		return e
	}
	if m[1] != part && partName(m[1]) != e.Part {
		e.Detail = "in {{define " + strconv.Quote(m[1]) + "}}: "
	}
	e.Line, _ = strconv.Atoi(m[2])
	msg := m[3]
	if exec {
		e.Kind = KindRender
		if a := execAt.FindStringSubmatch(msg); a != nil {
			if f := fieldAt.FindStringSubmatch(a[1]); f != nil {
				e.Field = f[1]
			}
			msg = strings.TrimPrefix(a[2], "error calling ")
		}
		e.Detail += msg
		return e
	}
	switch {
	case msg == "unexpected EOF":
		e.Kind = KindUnclosed
	case msg == "unexpected {{end}}":
		e.Kind = KindUnexpectedEnd
	case funcNotDef.MatchString(msg):
		e.Kind = KindUnknownFunction
		e.Detail = funcNotDef.FindStringSubmatch(msg)[1]
		return e
	case msg == "unclosed action":
		e.Detail += "a {{ is not closed with }}"
	case msg == "unterminated quoted string":
		e.Detail += "a quoted text inside {{ }} is not closed"
	case strings.HasPrefix(msg, "bad character"):
		e.Detail += "a character that cannot appear inside {{ }} (" + strings.TrimPrefix(msg, "bad character ") + "); is a } missing?"
	default:
		e.Detail += msg
	}
	e.Detail = strings.TrimSuffix(e.Detail, ": ")
	return e
}
