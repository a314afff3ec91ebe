package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strings"

	"golang.org/x/text/language"

	"github.com/bluemoon-mail/bluemoon/internal/acceptlang"
)

// Every word the console shows comes from a catalogue, one per language
// (assets/i18n/<lang>.json: key → text, fmt verbs for arguments). Adding a
// language is adding a file and a tag to supported.

var supported = []language.Tag{language.English, language.Japanese}

// browserLangs gives English, supported[0], to a browser that prefers
// neither language.
var browserLangs = acceptlang.New(supported...)

// catalog is one language's messages.
type catalog struct {
	lang string
	msgs map[string]string
}

// catalogs maps "en" / "ja" to its catalogue.
type catalogs map[string]*catalog

func loadCatalogs(fsys fs.FS) (catalogs, error) {
	cs := catalogs{}
	for _, tag := range supported {
		base, _ := tag.Base()
		name := base.String()
		b, err := fs.ReadFile(fsys, "i18n/"+name+".json")
		if err != nil {
			return nil, err
		}
		c := &catalog{lang: name, msgs: map[string]string{}}
		if err := json.Unmarshal(b, &c.msgs); err != nil {
			return nil, fmt.Errorf("catalogue %s: %w", name, err)
		}
		cs[name] = c
	}
	return cs, nil
}

// missing lists, per language, the keys another catalogue has and it lacks.
func (cs catalogs) missing() map[string][]string {
	all := map[string]bool{}
	for _, c := range cs {
		for k := range c.msgs {
			all[k] = true
		}
	}
	out := map[string][]string{}
	for name, c := range cs {
		for k := range all {
			if _, ok := c.msgs[k]; !ok {
				out[name] = append(out[name], k)
			}
		}
		sort.Strings(out[name])
	}
	return out
}

// T returns the message for key with args formatted in. A key missing from
// the catalogue shows as itself in brackets, so a test (and a reviewer) sees it.
func (c *catalog) T(key string, args ...any) string {
	m, ok := c.msgs[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// Has reports whether key is in the catalogue.
func (c *catalog) Has(key string) bool {
	_, ok := c.msgs[key]
	return ok
}

// langCookie keeps the language a user picked with the switch on every page.
const langCookie = "bluemoon_lang"

// pickLang chooses the page language: the user's pick (?lang= or its
// cookie), else Japanese when the browser prefers it, else English.
func pickLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "ja" || l == "en" {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "ja" || c.Value == "en") {
		return c.Value
	}
	base, _ := browserLangs.Choose(r.Header.Get("Accept-Language")).Base()
	return strings.ToLower(base.String())
}
