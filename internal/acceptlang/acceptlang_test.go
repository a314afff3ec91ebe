package acceptlang

import (
	"testing"

	"golang.org/x/text/language"
)

func TestChoose(t *testing.T) {
	c := New(language.English, language.Japanese)
	for _, tc := range []struct {
		header string
		want   language.Tag
	}{
		{"ja,en;q=0.8", language.Japanese},
		{"ja-JP", language.Japanese},
		{"en-US", language.English},
		{"en-US,en;q=0.9,ja;q=0.5", language.English},
		{"en;q=0.5,ja", language.Japanese},      // weight, not order, decides
		{"fr", language.English},                // offered neither: the default
		{"fr-FR,ja;q=0.3", language.Japanese},   // a weaker offered one beats none
		{"", language.English},                  // no header
		{"ja;q=0", language.English},            // q=0 refuses Japanese
		{"ja;q=0,en;q=0.1", language.English},   // …even when it comes first
		{"ja;q=abc", language.English},          // malformed
		{"ja;;;q=0.8,,", language.English},      // malformed
		{"*", language.English},                 // anything: the default
		{"zz-ZZ-not-a-tag!!", language.English}, // malformed tag
	} {
		if got := c.Choose(tc.header); got != tc.want {
			t.Errorf("Choose(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
	// The default is whichever is offered first.
	if got := New(language.Japanese, language.English).Choose("fr"); got != language.Japanese {
		t.Errorf("with Japanese first, Choose(fr) = %v, want ja", got)
	}
}
