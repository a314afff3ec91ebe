package saved

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/store"
)

func TestSaveGetArgs(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"list.csv", "body.txt", "a.pdf"} {
		os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600)
	}
	t.Chdir(dir)
	db, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := &Store{DB: db.DB}
	d := &Delivery{Name: "news", Account: "sales", Recipients: "list.csv", Subject: "Hello {{.name}}", Text: "body.txt",
		Attach: []string{"a.pdf"}, Charset: "iso-2022-jp", SkipInvalid: true, SendArgs: []string{"--email-column", "mail"}}
	if err := d.Absolutize(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(context.Background(), "news")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"send", "--account", "sales", "--recipients", filepath.Join(dir, "list.csv"), "--subject", "Hello {{.name}}",
		"--text", filepath.Join(dir, "body.txt"), "--attach", filepath.Join(dir, "a.pdf"), "--charset", "iso-2022-jp",
		"--skip-invalid", "--email-column", "mail"}
	if !slices.Equal(got.Args(), want) {
		t.Fatalf("args\n%q\nwant\n%q", got.Args(), want)
	}
	if err := s.Remove(context.Background(), "news"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "news"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after remove: %v", err)
	}
}

func TestValidateNamesTheFlag(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list.csv")
	os.WriteFile(list, []byte("email\n"), 0o600)
	base := Delivery{Name: "n", Account: "a", Recipients: list, Subject: "s", Text: list}
	cases := map[string]func(*Delivery){
		"--account":        func(d *Delivery) { d.Account = "" },
		"--text":           func(d *Delivery) { d.Text = "" },
		"--charset":        func(d *Delivery) { d.Charset = "latin1" },
		"--attach":         func(d *Delivery) { d.Attach = []string{filepath.Join(dir, "missing.pdf")} },
		"cron line":        func(d *Delivery) { d.Name = "two words" },
		"--notify-account": func(d *Delivery) { d.Alert.Email = "ops@example.com" },
	}
	for want, f := range cases {
		d := base
		f(&d)
		if err := d.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}
