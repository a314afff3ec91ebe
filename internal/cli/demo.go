package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/demo"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
)

func init() { register(demoCmd) }

func demoCmd(app *App) *cobra.Command {
	var n int
	var via string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole job on stand-in servers: credential file, sign-in, a personalised delivery, its report",
		Long: `demo shows bluemoon end to end without touching the internet. In this process,
on 127.0.0.1, it starts a Google-like and a Microsoft-like sign-in server and an
SMTP server for each that checks their OAuth tokens. Then, with the same commands
you would use, it makes and imports a credential file for each provider, adds the
accounts, signs them in (the stand-ins consent by themselves), and delivers a
personalised message to each recipient of a sample list with Japanese and
English names: through the Microsoft account in ISO-2022-JP from a Shift_JIS
list, through the Google account in UTF-8. It ends with the reports and one
delivered message decoded. With --via graph the Microsoft account sends
through a Microsoft Graph stand-in instead of SMTP, with --via gmail-api the
Google account through a Gmail API stand-in (--via graph,gmail-api: both).

Without --home everything lives in a temporary folder that is removed at the
end; with --home the accounts and deliveries stay there to explore.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 2 {
				return exitcode.Usagef("--recipients must be at least 2 (got %d)", n)
			}
			vias, err := demoVias(via)
			if err != nil {
				return err
			}
			return runDemo(cmd.Context(), app, n, vias)
		},
	}
	cmd.Flags().IntVar(&n, "recipients", 1000, "how many sample recipients (split between the two accounts)")
	cmd.Flags().StringVar(&via, "via", "smtp", "smtp, graph (the Microsoft account sends through Microsoft Graph), "+
		"gmail-api (the Google account through the Gmail API), or both: graph,gmail-api")
	return cmd
}

// demoRun carries the demo's state between its steps.
type demoRun struct {
	ctx  context.Context
	app  *App
	home string
	work string // where the sample files go
	step int
	vias map[provider.Kind]account.Via // accounts that send through their provider's API
}

// via is how p's account sends.
func (d *demoRun) via(p *demo.Provider) account.Via {
	if v, ok := d.vias[p.Kind]; ok {
		return v
	}
	return account.ViaSMTP
}

// demoVias reads --via: which provider's account sends through its API.
func demoVias(s string) (map[provider.Kind]account.Via, error) {
	out := map[provider.Kind]account.Via{}
	for _, f := range strings.Split(s, ",") {
		v, err := account.ParseVia(f)
		if err != nil {
			return nil, exitcode.Usagef("%w", err)
		}
		if v.API() {
			out[v.Provider()] = v
		}
	}
	return out, nil
}

func runDemo(ctx context.Context, app *App, n int, vias map[provider.Kind]account.Via) (err error) {
	d := &demoRun{ctx: ctx, app: app, vias: vias}
	if app.HomeFlag != "" {
		if d.home, err = app.Home(); err != nil {
			return err
		}
		d.work = filepath.Join(d.home, "demo")
		if err := os.MkdirAll(d.work, 0o700); err != nil {
			return err
		}
	} else {
		tmp, err := os.MkdirTemp("", "bluemoon-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		d.home, d.work = filepath.Join(tmp, "home"), filepath.Join(tmp, "files")
		if err := os.MkdirAll(d.work, 0o700); err != nil {
			return err
		}
		app.Warnf("Working in a temporary home (%s), removed at the end; give --home DIR to keep it.\n", d.home)
	}

	st, err := demo.Start()
	if err != nil {
		return fmt.Errorf("start the stand-ins: %w", err)
	}
	defer st.Close()
	d.heading("Stand-in servers on 127.0.0.1 (nothing here reaches the internet)")
	for _, p := range []*demo.Provider{st.Google, st.Microsoft} {
		app.Printf("  %-9s sign-in %s   SMTP %s   %s API %s\n", p.Kind, p.OAuth.URL(), p.SMTP.Addr(), p.API.Flavor(), p.API.URL())
	}

	list := demo.Recipients(n)
	half := n / 2
	plans := []struct {
		p       *demo.Provider
		charset string
		sjis    bool
		rows    []demo.Recipient
	}{
		{st.Microsoft, "iso-2022-jp", true, list[:half]},
		{st.Google, "utf-8", false, list[half:]},
	}
	for _, pl := range plans {
		if err := d.setUpAccount(pl.p); err != nil {
			return err
		}
	}
	var ids []int64
	for _, pl := range plans {
		id, err := d.deliver(pl.p, pl.charset, pl.sjis, pl.rows)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	for i, pl := range plans {
		if err := d.showResult(pl.p, ids[i], pl.rows[0].Email); err != nil {
			return err
		}
	}
	d.heading("Done")
	app.Printf("Both deliveries went through real sign-ins, token checks and SMTP sessions or API requests on 127.0.0.1.\n")
	if app.HomeFlag != "" {
		app.Printf("Explore: bluemoon --home %s deliveries list\n", d.home)
	}
	return nil
}

func (d *demoRun) heading(s string) {
	d.step++
	d.app.Printf("\n== %d. %s\n", d.step, s)
}

// bluemoon runs one bluemoon command against the demo's home, printing it
// first so the reader sees which commands do the work.
func (d *demoRun) bluemoon(stdout io.Writer, args ...string) error {
	d.app.Printf("$ bluemoon %s\n", shellQuote(args))
	if stdout == nil {
		stdout = d.app.Stdout
	}
	sub := &App{
		HomeFlag:    d.home,
		Stdin:       strings.NewReader(""),
		Stdout:      stdout,
		Stderr:      d.app.Stderr,
		IsTerminal:  func() bool { return false },
		OpenBrowser: d.browser,
	}
	if code := Run(d.ctx, sub, args); code != exitcode.OK {
		return fmt.Errorf("demo step 'bluemoon %s' exited with code %d", shellQuote(args), code)
	}
	return nil
}

// hasAccount reports whether the demo's home already holds the account, so
// that a first run does not show an "account remove" failing for nothing.
func (d *demoRun) hasAccount(name string) bool {
	probe := &App{HomeFlag: d.home}
	defer probe.Close()
	db, err := probe.DB(d.ctx)
	if err != nil {
		return false
	}
	_, err = (&account.Store{DB: db.DB}).Get(d.ctx, name)
	return err == nil
}

// browser plays the person at the browser: the stand-ins consent by
// themselves, so it only follows the redirects back to bluemoon.
func (d *demoRun) browser(url string) error {
	go func() {
		if _, err := (&oauthsrv.Browser{}).SignIn(d.ctx, url); err != nil {
			d.app.Warnf("demo browser: %v\n", err)
		}
	}()
	return nil
}

func (d *demoRun) setUpAccount(p *demo.Provider) error {
	kind := string(p.Kind)
	cfg := p.OAuth.Config("")
	d.heading(fmt.Sprintf("%s: the administrator makes a credential file; the user imports it and adds an account", kind))
	file := filepath.Join(d.work, "acme-"+kind+".bmcred")
	args := []string{"credentials", "create", "--provider", kind, "--client-id", cfg.ClientID,
		"--auth-endpoint", cfg.AuthEndpoint, "--token-endpoint", cfg.TokenEndpoint, "--out", file, "--force"}
	if cfg.ClientSecret != "" {
		args = append(args, "--client-secret", cfg.ClientSecret)
	}
	for flag, v := range map[string]string{"--revoke-endpoint": cfg.RevokeEndpoint, "--userinfo-endpoint": cfg.UserinfoURL,
		"--device-endpoint": cfg.DeviceEndpoint, "--api-endpoint": p.API.URL()} {
		if v != "" {
			args = append(args, flag, v)
		}
	}
	if err := d.bluemoon(nil, args...); err != nil {
		return err
	}
	// The stand-ins' endpoints are not the providers' own, so import asks
	// for consent to them — exactly what a user would be shown.
	if err := d.bluemoon(nil, "credentials", "import", file, "--name", "acme-"+kind, "--accept-custom-endpoints", "--replace"); err != nil {
		return err
	}
	caDir := filepath.Join(d.work, kind)
	if err := os.MkdirAll(caDir, 0o700); err != nil {
		return err
	}
	caFile, err := p.SMTP.WriteCAFile(caDir)
	if err != nil {
		return err
	}
	sec := "starttls"
	if p.Kind == provider.Google {
		sec = "tls"
	}
	acct := "demo-" + kind
	if d.hasAccount(acct) { // a kept --home may hold one from an earlier run
		if err := d.bluemoon(io.Discard, "account", "remove", acct); err != nil {
			return err
		}
	}
	// The stand-ins do not throttle, so the demo lifts the provider's
	// per-minute limit (30/min at Microsoft) to finish in seconds.
	args = []string{"account", "add", acct, "--from", p.From, "--from-name", "ブルームーン会員事務局",
		"--credentials", "acme-" + kind, "--smtp", p.SMTP.Addr(), "--security", sec, "--ca-file", caFile,
		"--per-minute", "0", "--confirm-reauth", "false"}
	if via := d.via(p); via.API() {
		// SMTP AUTH is off for this mailbox in the story: it sends through
		// the provider's API, with a token for it from the same sign-in.
		args = append(args, "--via", string(via))
	}
	if err := d.bluemoon(nil, args...); err != nil {
		return err
	}
	d.heading(fmt.Sprintf("%s: sign in once (PKCE + state, loopback redirect to 127.0.0.1)", kind))
	return d.bluemoon(nil, "login", acct)
}

func (d *demoRun) deliver(p *demo.Provider, charset string, sjis bool, rows []demo.Recipient) (int64, error) {
	kind := string(p.Kind)
	enc := "UTF-8"
	if sjis {
		enc = "Shift_JIS"
	}
	d.heading(fmt.Sprintf("%s: deliver %d personalised messages in %s from a %s list", kind, len(rows), strings.ToUpper(charset), enc))
	listFile := filepath.Join(d.work, "members-"+kind+".csv")
	if err := demo.WriteCSV(listFile, rows, sjis); err != nil {
		return 0, err
	}
	bodyFile := filepath.Join(d.work, "statement.txt")
	attFile := filepath.Join(d.work, demo.AttachmentName)
	if err := os.WriteFile(bodyFile, []byte(demo.TextBody), 0o600); err != nil {
		return 0, err
	}
	if err := os.WriteFile(attFile, []byte(demo.AttachmentText), 0o600); err != nil {
		return 0, err
	}
	var out strings.Builder
	err := d.bluemoon(io.MultiWriter(d.app.Stdout, &out), "send", "--account", "demo-"+kind, "--recipients", listFile,
		"--subject", demo.Subject, "--text", bodyFile, "--attach", attFile, "--charset", charset,
		"--name", "December statement ("+kind+")", "--unattended")
	if err != nil {
		return 0, err
	}
	// send prints "Delivery N: ..." first.
	var id int64
	if _, err := fmt.Sscanf(out.String(), "Delivery %d", &id); err != nil {
		return 0, fmt.Errorf("demo: no delivery number in send's output %q", out.String())
	}
	return id, nil
}

// showResult prints the start of delivery id's report and the message the
// first recipient (to) got, decoded.
func (d *demoRun) showResult(p *demo.Provider, id int64, to string) error {
	kind := string(p.Kind)
	d.heading(fmt.Sprintf("%s: the report (every recipient's outcome; first lines shown)", kind))
	var rep strings.Builder
	if err := d.bluemoon(&rep, "deliveries", "report", strconv.FormatInt(id, 10), "--csv"); err != nil {
		return err
	}
	lines := strings.Split(strings.TrimRight(rep.String(), "\n"), "\n")
	for i, l := range lines {
		if i == 4 {
			d.app.Printf("  … %d more rows\n", len(lines)-4)
			break
		}
		d.app.Printf("  %s\n", l)
	}
	server := "SMTP"
	var msgs []smtpsrv.Message
	if via := d.via(p); via.API() {
		server = string(via)
		for _, m := range p.API.Messages() {
			msgs = append(msgs, smtpsrv.Message{User: m.User, To: m.To, Data: m.Data, At: m.At})
		}
	} else {
		msgs = p.SMTP.Messages()
	}
	d.app.Printf("The %s %s stand-in accepted %d message(s).\n", kind, server, len(msgs))
	if len(msgs) == 0 {
		return fmt.Errorf("demo: the %s %s stand-in received nothing", kind, server)
	}
	// Several connections deliver at once, so find the first recipient's.
	m := msgs[0]
	for _, x := range msgs {
		if len(x.To) == 1 && x.To[0] == to {
			m = x
		}
	}
	dec, err := demo.Decode(m.Data)
	if err != nil {
		return fmt.Errorf("demo: decode a delivered message: %w", err)
	}
	d.heading(fmt.Sprintf("%s: one delivered message, decoded as a mail reader would (%d bytes, %s)", kind, len(m.Data), dec.Charset))
	d.app.Printf("  From:    %s\n  To:      %s\n  Subject: %s\n  Attachments: %s\n\n", dec.From, dec.To, dec.Subject, strings.Join(dec.Attachments, ", "))
	for _, l := range strings.Split(strings.TrimRight(dec.Text, "\n"), "\n") {
		d.app.Printf("  | %s\n", l)
	}
	return nil
}

// shellQuote renders args as a shell command line for display.
func shellQuote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'$\\{}()&;|<>*?!#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
