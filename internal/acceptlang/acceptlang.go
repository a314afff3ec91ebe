// Package acceptlang chooses, from a browser's Accept-Language header,
// which of the languages a page is written in to show. The console and
// the stand-in sign-in pages both use it, so a browser gets the same
// language from both.
package acceptlang

import "golang.org/x/text/language"

// Chooser chooses among the languages a site offers.
type Chooser struct {
	offered []language.Tag
	matcher language.Matcher
}

// New offers these languages (at least one); the first is the default.
func New(offered ...language.Tag) *Chooser {
	return &Chooser{offered: offered, matcher: language.NewMatcher(offered)}
}

// Choose returns the offered language the header prefers: the first
// offered when it names none of them, names nothing (empty, or every
// language at q=0) or does not parse.
func (c *Chooser) Choose(header string) language.Tag {
	// The error is ignored: a header that does not parse gives no tags,
	// and so the default, as a browser's garbled header should.
	tags, _, _ := language.ParseAcceptLanguage(header)
	if len(tags) == 0 {
		return c.offered[0]
	}
	if _, i, conf := c.matcher.Match(tags...); conf != language.No {
		return c.offered[i]
	}
	return c.offered[0]
}
