package schedule

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
)

// Install describes the timer set-up `bluemoon schedule install` prints or
// writes: either serve kept running, or a daily keep-alive for one account
// on machines where nothing else is scheduled.
type Install struct {
	Bin       string // absolute path of the bluemoon binary
	Home      string // data home (--home), always given so the job finds it
	KeepAlive string // account: set up a daily keep-alive instead of serve
	SendTest  bool   // keep-alive also sends a test message
	At        string // keep-alive time of day, "07:00"
}

// File is one file to write, its path relative to the folder named by the
// caller (systemd's user unit folder, or the data home for Windows).
type File struct {
	Name string
	Body string
}

func (in Install) args() []string {
	a := []string{"--home", in.Home}
	if in.KeepAlive == "" {
		return append(a, "serve")
	}
	a = append(a, "keepalive", in.KeepAlive, "--unattended")
	if in.SendTest {
		a = append(a, "--send-test")
	}
	return a
}

// ClockTime parses the keep-alive time of day, "07:00" by default.
func (in Install) ClockTime() (hour, minute int, err error) {
	at := in.At
	if at == "" {
		at = "07:00"
	}
	t, err := time.Parse("15:04", at)
	if err != nil {
		return 0, 0, inputErr("at", "--at %q: give a time of day such as 07:00", in.At)
	}
	return t.Hour(), t.Minute(), nil
}

// Crontab is the one crontab line. For serve it is a minutely
// `serve --once`: cron restarts nothing, so a job that starts, handles
// what is due and exits is the form that cannot die unnoticed.
func (in Install) Crontab() string {
	cmd := shQuote(in.Bin) + " " + shJoin(in.args())
	if in.KeepAlive == "" {
		return "* * * * * " + cmd + " --once >/dev/null 2>&1\n"
	}
	h, m, _ := in.ClockTime()
	return fmt.Sprintf("%d %d * * * %s >/dev/null 2>&1\n", m, h, cmd)
}

// SystemdUnits are the user units: a service that keeps serve running, or a
// keep-alive service and its daily timer.
func (in Install) SystemdUnits() []File {
	exec := systemdQuote(in.Bin) + " " + systemdJoin(in.args())
	if in.KeepAlive == "" {
		return []File{{Name: "bluemoon.service", Body: `[Unit]
Description=bluemoon scheduler (scheduled deliveries, keep-alives, preflights)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=` + exec + `
Restart=on-failure
RestartSec=30
# SIGTERM lets running deliveries pause cleanly; they resume with 'bluemoon deliveries resume'.
KillSignal=SIGTERM
TimeoutStopSec=120

[Install]
WantedBy=default.target
`}}
	}
	name := "bluemoon-keepalive-" + unitName(in.KeepAlive)
	h, m, _ := in.ClockTime()
	return []File{
		{Name: name + ".service", Body: `[Unit]
Description=bluemoon keep-alive for account ` + in.KeepAlive + `
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=` + exec + `
`},
		{Name: name + ".timer", Body: fmt.Sprintf(`[Unit]
Description=Daily bluemoon keep-alive for account %s

[Timer]
OnCalendar=*-*-* %02d:%02d:00
# Run at boot when the machine was off at the time.
Persistent=true
RandomizedDelaySec=300

[Install]
WantedBy=timers.target
`, in.KeepAlive, h, m)},
	}
}

// SystemdEnable is the command that starts the units.
func (in Install) SystemdEnable() string {
	if in.KeepAlive == "" {
		return "systemctl --user daemon-reload && systemctl --user enable --now bluemoon.service\n" +
			"loginctl enable-linger \"$USER\"   # keep it running while you are logged out\n"
	}
	return "systemctl --user daemon-reload && systemctl --user enable --now bluemoon-keepalive-" + unitName(in.KeepAlive) + ".timer\n" +
		"loginctl enable-linger \"$USER\"   # run it while you are logged out\n"
}

// Schtasks is the Windows command. Serve is a task started at log-on from an
// XML definition, because only XML can lift Task Scheduler's default
// three-day run limit and restart it after a failure; a keep-alive is a
// plain daily task.
func (in Install) Schtasks(xmlPath string) string {
	if in.KeepAlive == "" {
		return fmt.Sprintf("schtasks /Create /TN \"bluemoon serve\" /XML %s /F\r\n", winQuote(xmlPath))
	}
	tr := winQuote(in.Bin) + " " + winJoin(in.args())
	h, m, _ := in.ClockTime()
	return fmt.Sprintf("schtasks /Create /TN \"bluemoon keepalive %s\" /SC DAILY /ST %02d:%02d /TR %s /F\r\n",
		in.KeepAlive, h, m, winQuote(tr))
}

// TaskXML is the Task Scheduler definition that keeps serve running.
func (in Install) TaskXML() string {
	return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>bluemoon scheduler (scheduled deliveries, keep-alives, preflights)</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
    </LogonTrigger>
  </Triggers>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
    <StartWhenAvailable>true</StartWhenAvailable>
    <Hidden>true</Hidden>
  </Settings>
  <Actions>
    <Exec>
      <Command>` + xmlEscape(in.Bin) + `</Command>
      <Arguments>` + xmlEscape(winJoin(in.args())) + `</Arguments>
    </Exec>
  </Actions>
</Task>
`
}

// UTF16 encodes an XML document the way schtasks /XML reads it reliably:
// UTF-16LE with a byte-order mark, CRLF line ends.
func UTF16(s string) []byte {
	s = strings.ReplaceAll(s, "\n", "\r\n")
	u := utf16.Encode([]rune(s))
	out := []byte{0xFF, 0xFE}
	for _, c := range u {
		out = append(out, byte(c), byte(c>>8))
	}
	return out
}

func unitName(account string) string {
	var b strings.Builder
	for _, r := range account {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func shQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;#~!%") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shJoin(a []string) string {
	q := make([]string, len(a))
	for i, s := range a {
		// '%' ends a crontab command line: escape it for cron too.
		q[i] = strings.ReplaceAll(shQuote(s), "%", `\%`)
	}
	return strings.Join(q, " ")
}

// systemdQuote quotes one word of ExecStart; '%' starts a specifier.
func systemdQuote(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;$") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", "$$").Replace(s) + `"`
}

func systemdJoin(a []string) string {
	q := make([]string, len(a))
	for i, s := range a {
		q[i] = systemdQuote(s)
	}
	return strings.Join(q, " ")
}

// winQuote quotes one argument for the Windows command line (CommandLineToArgvW rules).
func winQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for _, r := range s {
		switch r {
		case '\\':
			slashes++
			continue
		case '"':
			b.WriteString(strings.Repeat(`\`, 2*slashes+1))
		default:
			b.WriteString(strings.Repeat(`\`, slashes))
		}
		slashes = 0
		b.WriteRune(r)
	}
	b.WriteString(strings.Repeat(`\`, 2*slashes))
	b.WriteByte('"')
	return b.String()
}

func winJoin(a []string) string {
	q := make([]string, len(a))
	for i, s := range a {
		q[i] = winQuote(s)
	}
	return strings.Join(q, " ")
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
