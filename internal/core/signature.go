package core

import (
	"html"
	"strings"
)

// The account's signature (署名) goes at the end of a message when the
// sender asks for it. It is the sender's text, not a template: a "{{" in
// it is printed as written, never run.

// withSignature returns the text and HTML bodies with sig appended (a
// body that is empty stays empty).
func withSignature(text, htmlBody, sig string) (string, string) {
	if sig == "" {
		return text, htmlBody
	}
	if text != "" {
		text = strings.TrimRight(text, "\r\n") + "\n\n" + literal(sig) + "\n"
	}
	if htmlBody != "" {
		lines := strings.Split(sig, "\n")
		for i, l := range lines {
			lines[i] = html.EscapeString(l)
		}
		block := `<div class="signature" style="margin-top:1em">` + literal(strings.Join(lines, "<br>\n")) + "</div>\n"
		if i := strings.LastIndex(strings.ToLower(htmlBody), "</body>"); i >= 0 {
			htmlBody = htmlBody[:i] + block + htmlBody[i:]
		} else {
			htmlBody = strings.TrimRight(htmlBody, "\r\n") + "\n" + block
		}
	}
	return text, htmlBody
}

// literal makes s print as itself inside a Go template.
func literal(s string) string {
	return strings.ReplaceAll(s, "{{", `{{"{{"}}`)
}
