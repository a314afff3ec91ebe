package schedule

import (
	"fmt"
	"strings"
)

// launchdLabel names the job to launchd (reverse-DNS, as Apple asks); the
// plist file is the label plus ".plist" in ~/Library/LaunchAgents.
func (in Install) launchdLabel() string {
	if in.KeepAlive == "" {
		return "com.github.bluemoon-mail.bluemoon"
	}
	return "com.github.bluemoon-mail.bluemoon.keepalive." + unitName(in.KeepAlive)
}

// LaunchdPlist is the macOS launch agent. Serve is started at log-in and
// started again when it fails (KeepAlive SuccessfulExit=false, like
// systemd's Restart=on-failure), with two minutes to pause its deliveries
// on SIGTERM; a keep-alive runs daily at its time. ProgramArguments takes
// each argument whole, so paths with spaces need no quoting.
func (in Install) LaunchdPlist() File {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>` + xmlEscape(in.launchdLabel()) + `</string>
  <key>ProgramArguments</key>
  <array>
`)
	for _, a := range append([]string{in.Bin}, in.args()...) {
		b.WriteString("    <string>" + xmlEscape(a) + "</string>\n")
	}
	b.WriteString("  </array>\n")
	if in.KeepAlive == "" {
		b.WriteString(`  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>30</integer>
  <!-- SIGTERM lets running deliveries pause cleanly; they resume with 'bluemoon deliveries resume'. -->
  <key>ExitTimeOut</key>
  <integer>120</integer>
`)
	} else {
		h, m, _ := in.ClockTime()
		fmt.Fprintf(&b, `  <key>StartCalendarInterval</key>
  <dict>
    <key>Hour</key>
    <integer>%d</integer>
    <key>Minute</key>
    <integer>%d</integer>
  </dict>
`, h, m)
	}
	b.WriteString(`  <key>ProcessType</key>
  <string>Background</string>
</dict>
</plist>
`)
	return File{Name: in.launchdLabel() + ".plist", Body: b.String()}
}

// LaunchdLoad is the command that loads the agent at path now (it is
// loaded again at every log-in from ~/Library/LaunchAgents).
func (in Install) LaunchdLoad(path string) string {
	q := shQuote(path)
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		q = "~/" + shQuote(rest) // the shell expands an unquoted ~ only
	}
	return "launchctl bootstrap gui/$(id -u) " + q + "\n"
}
