package message

import (
	"errors"
	"strings"
	"testing"
)

// Values that go into headers from settings are refused, naming the field,
// when they hold a character that could end the header or hide in it.
func TestHeaderValuesWithControlCharactersRefused(t *testing.T) {
	for _, c := range []struct{ value, words string }{
		{"News\r\nBcc: victim@example.org", "U+000D, carriage return"},
		{"News\nX", "U+000A, line feed"},
		{"News\x00", "U+0000, NUL"},
		{"News\tLetter", "U+0009, tab"},
		{"News\x1b$B", "U+001B, escape"},
		{"News\u0085", "U+0085"},
		{"News\xff", "not UTF-8"},
	} {
		for _, edit := range []func(*Message) string{
			func(m *Message) string { m.From.Name = c.value; return "From name" },
			func(m *Message) string { m.To[0].Name = c.value; return "To #1 name" },
			func(m *Message) string { m.Headers = map[string]string{"X-Note": c.value}; return "header X-Note" },
		} {
			m := &Message{From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Subject: "s", Text: "t"}
			field := edit(m)
			_, err := m.Bytes()
			var he *HeaderTextError
			if !errors.As(err, &he) || he.Field != field || !strings.Contains(err.Error(), c.words) {
				t.Errorf("%s %q: %v", field, c.value, err)
			}
		}
	}
	ok := &Message{From: Address{Name: "株式会社ブルームーン (営業) \"Sales\"", Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Subject: "s", Text: "t"}
	if _, err := ok.Bytes(); err != nil {
		t.Errorf("an ordinary name: %v", err)
	}
	nul := &Message{From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Subject: "s", Text: "a\x00b"}
	if _, err := nul.Bytes(); err == nil || !strings.Contains(err.Error(), "text body contains a NUL byte") {
		t.Errorf("NUL in a 7bit body: %v", err)
	}
}
