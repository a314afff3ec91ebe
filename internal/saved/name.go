package saved

import (
	"fmt"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/names"
)

// MaxNameLen bounds a saved delivery's name, in characters.
const MaxNameLen = 64

// CheckName checks the name of a new saved delivery: 1-64 letters (of any
// script: 月次ニュース), digits, '-' or '_', starting with a letter or digit,
// and not a name Windows keeps for a device (CON, NUL…). The name goes on
// a cron line or a Task Scheduler command (`bluemoon run NAME`), which
// must need no quoting — a ';', '&' or '$' there would run something
// else — and the console keeps the delivery's files in a folder of that
// name. A delivery saved before this rule keeps its name: only a new one
// is checked (Validate keeps the older, looser rule for all).
// (names.Plain is the rule; a schedule's name follows it too.)
func CheckName(name string) error {
	if !names.Plain(name, MaxNameLen) {
		return fmt.Errorf("saved delivery name %q: use 1-%d letters (Japanese too), digits, '-' or '_', starting with a letter or digit (it goes on a cron line: no spaces or other marks)",
			name, MaxNameLen)
	}
	if windowsDevice(name) {
		return fmt.Errorf("saved delivery name %q: Windows keeps that name for a device; choose another", name)
	}
	return nil
}

// windowsDevice reports whether name is one Windows refuses for a file or
// folder (whatever the case).
func windowsDevice(name string) bool {
	switch strings.ToUpper(name) {
	case "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return true
	}
	return false
}
