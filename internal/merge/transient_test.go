package merge

import (
	"bytes"
	"regexp"
	"testing"
)

// A transient renderer (the delivery's, for every recipient) shares its
// buffers with the Content it fills: each message composed right after its
// render must be byte for byte the one an ordinary renderer makes, for
// joined templates and text/template ones, ASCII and Japanese, in either
// charset — and an ordinary renderer's earlier Contents stay as they were
// (a preview keeps several).
func TestTransientRendererComposesTheSameMessages(t *testing.T) {
	rows := [][]string{
		{"a@example.com", "Name A", "Company A", "plan-1"},
		{"taro@example.jp", "山田太郎", "株式会社ブルームーン", "スタンダード"},
		{"b@example.com", "B", "C", "p"}, // shorter than the row before: no tail of it may show
		{"c@example.com", "Name C, a much longer name than any before it", "Company C", "plan-3"},
	}
	specs := map[string]Spec{
		"ascii joined": asciiSpec,
		"utf-8 html":   japanSpec("utf-8"),
		"iso-2022-jp":  japanSpec("iso-2022-jp"),
		"text/template": {Subject: `{{if .plan}}{{.name}} ({{.plan}}){{end}}`,
			Text: "{{with .company}}{{end}}Dear {{.name | printf \"%s\"}} of {{.company}}\n"},
	}
	for name, spec := range specs {
		t.Run(name, func(t *testing.T) {
			spec.From = "news@example.com"
			tp, err := Compile(spec, []string{"email", "name", "company", "plan"}, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			env := Envelope{MessageID: "x@example.com"}
			transient, ordinary := tp.NewRenderer().Transient(), tp.NewRenderer()
			var tc Content
			var got, want bytes.Buffer
			kept := make([]Content, len(rows))
			for i, row := range rows {
				if err := transient.Render(row, &tc); err != nil {
					t.Fatal(err)
				}
				if err := tp.Compose(&tc, env, &got); err != nil {
					t.Fatal(err)
				}
				if err := ordinary.Render(row, &kept[i]); err != nil {
					t.Fatal(err)
				}
				if err := tp.Compose(&kept[i], env, &want); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(sameBoundary(got.Bytes()), sameBoundary(want.Bytes())) {
					t.Fatalf("row %d: the transient renderer's message differs:\n%s\nwant\n%s", i, got.Bytes(), want.Bytes())
				}
			}
			for i, row := range rows {
				var c Content
				if err := tp.NewRenderer().Render(row, &c); err != nil {
					t.Fatal(err)
				}
				if kept[i].Subject != c.Subject || kept[i].Text != c.Text || kept[i].HTML != c.HTML {
					t.Errorf("row %d: an ordinary renderer's earlier content changed: subject %q, want %q", i, kept[i].Subject, c.Subject)
				}
			}
		})
	}
}

// sameBoundary replaces a message's random MIME boundary ("bm=_" and 24 hex
// digits) with a fixed one, so that two messages compare by content.
func sameBoundary(m []byte) []byte {
	return boundaryRE.ReplaceAll(m, []byte("bm=_BOUNDARY"))
}

var boundaryRE = regexp.MustCompile(`bm=_[0-9a-f]{24}`)
