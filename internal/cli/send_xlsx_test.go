package cli

import (
	"mime"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// `bluemoon send --recipients list.xlsx` reads an Excel workbook like a
// CSV list: the first sheet (or --sheet), Excel's row numbers in problems,
// Japanese names merged.
func TestSendFromAnExcelWorkbook(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	wb := excelize.NewFile()
	wb.SetSheetName("Sheet1", "表紙")
	wb.SetCellValue("表紙", "A1", "この名簿は 2 枚目のシートです")
	wb.NewSheet("名簿")
	for r, row := range [][]any{{"email", "氏名"}, {"taro@example.jp", "山田太郎"}, {"hanako@example.jp", "佐藤花子"}, {"broken", "鈴木"}} {
		cell, _ := excelize.CoordinatesToCellName(1, r+1)
		wb.SetSheetRow("名簿", cell, &row)
	}
	list := filepath.Join(dir, "members.xlsx")
	if err := wb.SaveAs(list); err != nil {
		t.Fatal(err)
	}
	body := writeTemp(t, dir, "body.txt", "{{.氏名}} 様\nお知らせです。\n")
	args := []string{"send", "--account", "news", "--recipients", list, "--subject", "{{.氏名}} 様へのお知らせ", "--text", body}

	// The first sheet has no address column: said so, nothing sent.
	if r := runCLI(t, home, "", args...); r.Code != 2 || !strings.Contains(r.Stderr, `no "email" column`) {
		t.Fatalf("first sheet: exit %d\n%s", r.Code, r.Stderr)
	}
	args = append(args, "--sheet", "名簿")
	// The bad row is named by its row in Excel.
	if r := runCLI(t, home, "", args...); r.Code != 2 || !strings.Contains(r.Stderr, "row 4, email:") || srv.Count() != 0 {
		t.Fatalf("bad row: exit %d\n%s", r.Code, r.Stderr)
	}
	r := runCLI(t, home, "", append(args, "--skip-invalid")...)
	if r.Code != 0 || srv.Count() != 2 {
		t.Fatalf("send: exit %d, server got %d\n%s\n%s", r.Code, srv.Count(), r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "Checked 3 row(s) (xlsx)") {
		t.Errorf("preflight line: %s", r.Stderr)
	}
	var subjects []string
	for _, m := range srv.Messages() {
		msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
		if err != nil {
			t.Fatal(err)
		}
		s, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		subjects = append(subjects, s)
	}
	if strings.Join(subjects, "|") != "山田太郎 様へのお知らせ|佐藤花子 様へのお知らせ" {
		t.Fatalf("subjects %q", subjects)
	}
}

// --sheet with a CSV list is refused, not ignored: the person believed a
// sheet was chosen, and the CSV's rows would go. Preview and save refuse
// it alike; nothing is sent.
func TestSheetWithACSVListIsRefused(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	list := writeTemp(t, dir, "members.csv", "email,name\na@example.jp,A\n")
	body := writeTemp(t, dir, "body.txt", "Hello {{.name}}\n")
	msg := []string{"--account", "news", "--recipients", list, "--subject", "S", "--text", body}
	sheet := []string{"--sheet", "名簿"}
	for _, args := range [][]string{
		slices.Concat([]string{"send"}, msg, sheet),
		slices.Concat([]string{"send", "--dry-run"}, msg, sheet),
		slices.Concat([]string{"preview", "--out", filepath.Join(dir, "r.eml")}, msg, sheet),
		slices.Concat([]string{"deliveries", "save", "monthly"}, msg, []string{"--"}, sheet), // a saved one's send flags
	} {
		r := runCLI(t, home, "", args...)
		if r.Code != 2 || !strings.Contains(r.Stderr, `--sheet "名簿" applies to Excel .xlsx lists only`) || !strings.Contains(r.Stderr, list) {
			t.Errorf("%s: exit %d\n%s%s", args[0], r.Code, r.Stdout, r.Stderr)
		}
	}
	if srv.Count() != 0 {
		t.Fatalf("the server got %d message(s)", srv.Count())
	}
}
