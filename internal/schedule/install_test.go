package schedule

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once)", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func render(in Install) string {
	var b strings.Builder
	b.WriteString("## crontab\n" + in.Crontab())
	for _, f := range in.SystemdUnits() {
		b.WriteString("## " + f.Name + "\n" + f.Body)
	}
	b.WriteString("## enable\n" + in.SystemdEnable())
	b.WriteString("## schtasks\n" + in.Schtasks(`C:\Users\Taro Yamada\AppData\Roaming\bluemoon\bluemoon-task.xml`))
	if in.KeepAlive == "" {
		b.WriteString("## task xml\n" + in.TaskXML())
	}
	return b.String()
}

// Paths with spaces, quotes and '%' check each format's quoting.
func TestInstallServeGolden(t *testing.T) {
	golden(t, "install_serve.golden", render(Install{Bin: "/opt/blue moon/bluemoon", Home: "/home/taro/.config/bluemoon 100%"}))
}

func TestInstallKeepAliveGolden(t *testing.T) {
	golden(t, "install_keepalive.golden", render(Install{Bin: "/usr/local/bin/bluemoon", Home: "/home/taro/.config/bluemoon",
		KeepAlive: "sales@example.com", SendTest: true, At: "06:30"}))
}

func TestInstallWindowsPathsGolden(t *testing.T) {
	in := Install{Bin: `C:\Program Files\bluemoon\bluemoon.exe`, Home: `C:\Users\Taro Yamada\AppData\Roaming\bluemoon\`}
	golden(t, "install_windows.golden", in.Schtasks(`C:\Users\Taro Yamada\bluemoon-task.xml`)+in.TaskXML()+
		Install{Bin: in.Bin, Home: in.Home, KeepAlive: "sales"}.Schtasks(""))
}

func TestUTF16HasBOMAndCRLF(t *testing.T) {
	b := UTF16("<a>é</a>\n")
	if b[0] != 0xFF || b[1] != 0xFE {
		t.Fatal("no UTF-16LE byte-order mark")
	}
	u := make([]uint16, 0, len(b)/2)
	for i := 2; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])|uint16(b[i+1])<<8)
	}
	if got := string(utf16.Decode(u)); got != "<a>é</a>\r\n" {
		t.Fatalf("decoded %q", got)
	}
}

func TestInstallBadTime(t *testing.T) {
	if _, _, err := (Install{At: "7am"}).ClockTime(); err == nil || !strings.Contains(err.Error(), "--at") {
		t.Fatalf("%v", err)
	}
}
