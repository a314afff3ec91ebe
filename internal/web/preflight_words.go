package web

import (
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
)

// A preflight's problems and notes come from the core with a code (see
// delivery's problem_codes.go) and an English Message for the CLI; the
// check step words them from the code in the page's language, and shows
// the English only for a problem no code fits.

// PreflightText is a preflight problem or note in the page's language.
func (v *view) PreflightText(p delivery.Problem) string {
	switch {
	case strings.HasPrefix(p.Code, delivery.CodeAddressPrefix), p.Code == delivery.CodeQuote:
		return v.ProblemText(listProblem{Code: p.Code, Value: p.Value, Text: p.Message})
	case p.Code == delivery.CodeCells:
		return v.T("list.problem.cells", p.Got, p.Want)
	case p.Code == delivery.CodeNotUTF8, p.Code == delivery.CodeFieldEmpty, p.Code == delivery.CodeFieldMissing:
		return v.T("check.problem."+p.Code, p.Field)
	case p.Code == delivery.CodeAttachMissing:
		return v.T("check.problem."+p.Code, p.Value)
	case p.Code == delivery.CodeAttachLarge:
		return v.T("check.problem."+p.Code, p.Value, v.Size(p.Got), v.Size(p.Want))
	case p.Code == delivery.CodeTooLarge && p.Got == 0:
		return v.T("check.problem.too_large_over", v.Size(p.Want))
	case p.Code == delivery.CodeTooLarge:
		return v.T("check.problem."+p.Code, v.Size(p.Got), v.Size(p.Want))
	case p.Code == delivery.CodeTooSlow:
		return v.T("check.problem.too_slow")
	case strings.HasPrefix(p.Code, delivery.CodeFallbackPrefix):
		part := strings.TrimPrefix(p.Code, delivery.CodeFallbackPrefix)
		if k := "check.part." + part; v.Has(k) {
			part = v.T(k)
		}
		return v.T("check.note.fallback", part, p.Value)
	}
	if p.Field != "" {
		return p.Field + ": " + p.Message
	}
	return p.Message
}
