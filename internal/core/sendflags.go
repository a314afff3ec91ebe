package core

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

// A saved delivery is stored as the command line of `bluemoon send` (its
// fields and the flags given after "--"), so that running it behaves
// exactly as typing that command. The flags are bound here, once, for the
// CLI's send and preview commands and for ParseSendArgs, so the two
// cannot drift apart.

// BindListFlags binds the flags that say how to read a recipient list.
func BindListFlags(f *pflag.FlagSet, l *ListInput) {
	f.StringVar(&l.Path, "recipients", "", "recipient list: CSV, TSV or Excel .xlsx with a header row (required)")
	f.StringVar(&l.Delimiter, "delimiter", "", "force the column separator: comma, tab or semicolon (default: by extension, else by the header)")
	f.StringVar(&l.Encoding, "encoding", "auto", "list encoding: auto, utf-8 or shift_jis (cp932)")
	f.StringVar(&l.EmailColumn, "email-column", "email", "the column holding the address")
	f.StringVar(&l.Sheet, "sheet", "", "the sheet of an .xlsx workbook (default: the first)")
}

// BindMessageFlags binds the message template's flags.
func BindMessageFlags(f *pflag.FlagSet, m *MessageInput) {
	f.StringVar(&m.Subject, "subject", "", "subject, with merge fields like {{.name}} (required)")
	f.StringVar(&m.TextFile, "text", "", "file with the plain-text body (a Go template)")
	f.StringVar(&m.HTMLFile, "html", "", "file with the HTML body (merged values are HTML-escaped)")
	f.StringArrayVar(&m.Attach, "attach", nil, "file attached to every message (repeatable)")
	f.StringVar(&m.AttachColumn, "attach-column", "", "column naming a file for that recipient only (relative to the list's folder, or --attach-dir; nothing outside it is attached)")
	f.StringVar(&m.AttachDir, "attach-dir", "", "the folder --attach-column's files are in (default: the list's folder)")
	f.StringVar(&m.Charset, "charset", "utf-8", "message charset: utf-8 or iso-2022-jp")
	f.BoolVar(&m.Signature, "signature", false, "end the message with the account's signature (account edit --signature-file)")
}

// BindSendFlags binds every flag of `bluemoon send` to in, but
// --unattended, which is the face's.
func BindSendFlags(f *pflag.FlagSet, in *SendInput) {
	BindListFlags(f, &in.List)
	BindMessageFlags(f, &in.Message)
	f.StringVar(&in.Account, "account", "", "the sender account (required)")
	f.StringVar(&in.Name, "name", "", "a name for the delivery (default: list file and time)")
	f.BoolVar(&in.DryRun, "dry-run", false, "check everything, send nothing")
	f.BoolVar(&in.SkipInvalid, "skip-invalid", false, "leave out rows with problems (they are listed in the report) instead of refusing")
	BindDailyWait(f, &in.DailyWait)
	f.BoolVar(&in.NoChunking, "no-chunking", false, "never use BDAT (CHUNKING), only DATA: for a server that mishandles BDAT; kept with the delivery, so resume follows it")
}

// BindDailyWait binds --daily-wait (send and resume).
func BindDailyWait(f *pflag.FlagSet, d *time.Duration) {
	f.DurationVar(d, "daily-wait", DefaultDailyWait, "when the daily limit is reached, wait this long (0 or more; 0 pauses at once) for the window to reopen; longer waits pause the delivery (exit 5)")
}

// checkDailyWait refuses a negative --daily-wait, which used to pause at
// once as 0 does, unsaid.
func checkDailyWait(d time.Duration) error {
	if d < 0 {
		return fieldErr("daily_wait", CodeInvalid, "--daily-wait %s: must not be negative; give 0 (pause at once when the daily limit is reached) or a wait such as 30m", d)
	}
	return nil
}

// ParseSendArgs reads a `bluemoon send` command line (without "send").
func ParseSendArgs(args []string) (SendInput, error) {
	f := pflag.NewFlagSet("send", pflag.ContinueOnError)
	f.SetOutput(discard{})
	var in SendInput
	BindSendFlags(f, &in)
	var unattended bool // the face's; accepted so a saved command line may carry it
	f.BoolVar(&unattended, "unattended", false, "")
	if err := f.Parse(args); err != nil {
		return in, &FieldError{Field: "send_args", Code: CodeInvalid, Message: "send options: " + err.Error(), Err: &exitcode.UsageError{Err: err}}
	}
	if f.NArg() > 0 {
		return in, fieldErr("send_args", CodeInvalid, "send options: unexpected %q (send takes no arguments, only flags)", f.Arg(0))
	}
	if err := checkDailyWait(in.DailyWait); err != nil {
		return in, fieldErr("send_args", CodeInvalid, "send options: %s", err)
	}
	return in, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
