package schedule

import (
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
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

// What `schedule install` prints on each system: the set-up that system
// runs, and only that one, unless all are asked for.
func TestInstructionsGolden(t *testing.T) {
	p := Places{SystemdDir: "/home/taro/.config/systemd/user", LaunchDir: "/Users/taro/Library/LaunchAgents",
		TaskXMLPath: `C:\Users\Taro Yamada\AppData\Roaming\bluemoon\bluemoon-task.xml`}
	serve := Install{Bin: "/opt/blue moon/bluemoon", Home: "/home/taro/.config/bluemoon 100%"}
	keep := Install{Bin: "/usr/local/bin/bluemoon", Home: "/Users/taro/Library/Application Support/bluemoon",
		KeepAlive: "sales@example.com", SendTest: true, At: "06:30"}
	for _, goos := range []string{Linux, MacOS, Windows, AllOS} {
		for name, in := range map[string]Install{"serve": serve, "keepalive": keep} {
			got, err := in.Instructions(goos, p)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "instructions_"+goos+"_"+name+".golden", got)
			if has := strings.Contains(got, "crontab -e"); has != (goos == Linux || goos == AllOS) {
				t.Errorf("%s %s: cron line %v", goos, name, has)
			}
			if has := strings.Contains(got, "launchctl bootstrap"); has != (goos == MacOS || goos == AllOS) {
				t.Errorf("%s %s: launchd %v", goos, name, has)
			}
			if has := strings.Contains(got, "schtasks /Create"); has != (goos == Windows || goos == AllOS) {
				t.Errorf("%s %s: schtasks %v", goos, name, has)
			}
		}
	}
	if _, err := serve.Instructions("plan9", p); err == nil || !strings.Contains(err.Error(), "--os") {
		t.Fatalf("unknown system: %v", err)
	}
}

// The launch agent is a property list macOS reads: well-formed XML, each
// argument whole (a path with spaces is one <string>), '&' escaped.
func TestLaunchdPlistIsWellFormed(t *testing.T) {
	in := Install{Bin: "/Applications/Blue Moon.app/Contents/MacOS/bluemoon", Home: "/Users/taro/R&D/bluemoon"}
	f := in.LaunchdPlist()
	dec := xml.NewDecoder(strings.NewReader(f.Body))
	dec.Strict = true
	var strs []string
	var inString bool
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%v\n%s", err, f.Body)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			inString = tk.Name.Local == "string"
		case xml.CharData:
			if inString {
				strs = append(strs, string(tk))
			}
		case xml.EndElement:
			inString = false
		}
	}
	want := []string{"com.github.bluemoon-mail.bluemoon", in.Bin, "--home", in.Home, "serve", "Background"}
	if !slices.Equal(strs, want) || f.Name != "com.github.bluemoon-mail.bluemoon.plist" {
		t.Fatalf("%s: strings %q, want %q", f.Name, strs, want)
	}
}

func TestLaunchdLoadKeepsTheTildeForTheShell(t *testing.T) {
	in := Install{}
	if got := in.LaunchdLoad("~/Library/LaunchAgents/com.github.bluemoon-mail.bluemoon.plist"); got != "launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/com.github.bluemoon-mail.bluemoon.plist\n" {
		t.Fatal(got)
	}
	if got := in.LaunchdLoad("/Users/Taro Yamada/Library/LaunchAgents/x.plist"); got != "launchctl bootstrap gui/$(id -u) '/Users/Taro Yamada/Library/LaunchAgents/x.plist'\n" {
		t.Fatal(got)
	}
}
