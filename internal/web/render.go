package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// assets holds everything the console serves: templates, catalogues,
// stylesheet and script. Nothing is fetched from anywhere else, so the
// console works offline and no third party sees its users.
//
//go:embed all:assets
var embedded embed.FS

var assets = mustSub(embedded, "assets")

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}

// parsePages parses each page template with the shared layout; a page is
// templates/<name>.html defining "content" (and optionally "title").
func parsePages(fsys fs.FS) (map[string]*template.Template, error) {
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if strings.HasPrefix(base, "_") {
			continue // layout and partials
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(fsys, "templates/_*.html", n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// funcs are the template helpers that need no request; the ones that do
// (translation, dates) are methods of view.
var funcs = template.FuncMap{
	"pathEscape":  url.PathEscape,
	"queryEscape": url.QueryEscape,
	"add":         func(a, b int) int { return a + b },
	"list":        func(xs ...string) []string { return xs },
	"join":        strings.Join,
	"num":         groupDigits,
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}

// view is what every page template sees.
type view struct {
	cat     *catalog
	Lang    string
	Nonce   string
	CSRF    string
	Path    string // the request path, for the language switch and the current nav item
	Nav     string
	Title   string
	Sandbox bool
	Flash   []flash
	Errors  map[string]string // form errors by field
	Data    any
}

// flash is a one-line outcome shown at the top of a page.
type flash struct {
	Kind string // ok, warn, error
	Text string
}

// T translates key with args.
func (v *view) T(key string, args ...any) string { return v.cat.T(key, args...) }

// Has reports whether the catalogue has key (for optional hints).
func (v *view) Has(key string) bool { return v.cat.Has(key) }

// When shows t in the user's local zone (the console runs on their own
// machine), in their language's format, with the zone named.
func (v *view) When(t time.Time) string {
	if t.IsZero() {
		return v.T("common.never")
	}
	return t.Local().Format(v.T("fmt.datetime"))
}

// Other is the language the switch offers.
func (v *view) Other() string {
	if v.Lang == "ja" {
		return "en"
	}
	return "ja"
}

func (s *Server) newView(r *http.Request, nav string, data any) *view {
	lang := langOf(r)
	v := &view{cat: s.cats[lang], Lang: lang, Nonce: nonceOf(r), Path: r.URL.Path, Nav: nav, Sandbox: s.opts.Sandbox, Data: data, Errors: map[string]string{}}
	if sess := sessionOf(r); sess != nil {
		v.CSRF = sess.csrf
	}
	return v
}

// render draws page with v, buffering so a template error never leaves a
// half-written page.
func (s *Server) render(w http.ResponseWriter, status int, page string, v *view) {
	t, ok := s.pages[page]
	if !ok {
		http.Error(w, "no page "+page, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.logf("console: page %s: %v", page, err)
		http.Error(w, "the page could not be drawn: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderStatus draws a status page (no session, bad token, not found):
// key names its message in the catalogue ("status.<key>.title" / ".body").
func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, code int, key string, args []any) {
	v := s.newView(r, "", map[string]any{"Key": key, "Args": args})
	v.Title = v.T("status." + key + ".title")
	s.render(w, code, "status", v)
}

// groupDigits writes n with thousands separators (10,000), as both
// Japanese and English readers expect.
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// flagField marks the input a problem names, so the page shows the message
// beside that input as well as in its summary, and returns the problem.
func (v *view) flagField(p *problem) *problem {
	if p != nil && p.Field != "" {
		v.Errors[p.Field] = p.Message
	}
	return p
}
