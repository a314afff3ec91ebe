package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
)

// Env is what the demo needs from the program that shows it.
type Env struct {
	Out, Err io.Writer // what the demo says, and notes
	// Home is a data home to keep ("" works in a temporary one, removed
	// at the end).
	Home string
	// Bluemoon runs one bluemoon command on home, as a script would (no
	// terminal), with stdout to out and stderr to errOut, and returns its
	// exit code.
	Bluemoon func(ctx context.Context, home string, out, errOut io.Writer, args ...string) int
	// Via names the providers whose account sends through its API
	// (graph, gmail-api) instead of SMTP; see ParseVia.
	Via map[provider.Kind]account.Via
}

// ParseVia reads a comma-separated list of ways (smtp, graph, gmail-api):
// which provider's demo account sends through its API.
func ParseVia(s string) (map[provider.Kind]account.Via, error) {
	out := map[provider.Kind]account.Via{}
	for _, f := range strings.Split(s, ",") {
		v, err := account.ParseVia(f)
		if err != nil {
			return nil, err
		}
		if v.API() {
			out[v.Provider()] = v
		}
	}
	return out, nil
}

// via is how p's account sends.
func (d *run) via(p *Provider) account.Via {
	if v, ok := d.env.Via[p.Kind]; ok {
		return v
	}
	return account.ViaSMTP
}

// run carries the demo's state between its steps.
type run struct {
	ctx  context.Context
	env  Env
	home string
	work string // where the sample files go
	step int
	st   *StandIns
}

func (d *run) printf(format string, args ...any) { fmt.Fprintf(d.env.Out, format, args...) }

// Run shows bluemoon end to end on stand-ins, with the same commands a
// person would type: a credential file made and imported for each
// provider, the accounts added and signed in, n personalised messages
// delivered (Microsoft in ISO-2022-JP from a Shift_JIS list, Google in
// UTF-8), the reports and one delivered message decoded. env.Via sends
// through a provider's API stand-in instead of SMTP.
func Run(ctx context.Context, env Env, n int) (err error) {
	d := &run{ctx: ctx, env: env}
	if env.Home != "" {
		d.home = env.Home
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
		fmt.Fprintf(env.Err, "Working in a temporary home (%s), removed at the end; give --home DIR to keep it.\n", d.home)
	}

	st, err := Start()
	if err != nil {
		return fmt.Errorf("start the stand-ins: %w", err)
	}
	defer st.Close()
	d.st = st
	d.heading("Stand-in servers on 127.0.0.1 (nothing here reaches the internet)")
	for _, p := range []*Provider{st.Google, st.Microsoft} {
		d.printf("  %-9s sign-in %s   SMTP %s   %s API %s\n", p.Kind, p.OAuth.URL(), p.SMTP.Addr(), p.API.Flavor(), p.API.URL())
	}

	list := Recipients(n)
	half := n / 2
	plans := []struct {
		p       *Provider
		charset string
		sjis    bool
		rows    []Recipient
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
	d.printf("Both deliveries went through real sign-ins, token checks and SMTP sessions or API requests on 127.0.0.1.\n")
	if env.Home != "" {
		d.printf("Explore: bluemoon --home %s deliveries list\n", d.home)
	}
	return nil
}

func (d *run) heading(s string) {
	d.step++
	d.printf("\n== %d. %s\n", d.step, s)
}

// bluemoon runs one bluemoon command against the demo's home, printing it
// first so the reader sees which commands do the work.
func (d *run) bluemoon(stdout io.Writer, args ...string) error {
	d.printf("$ bluemoon %s\n", saved.Quote(args))
	if stdout == nil {
		stdout = d.env.Out
	}
	stderr := &quiet{w: d.env.Err, drop: d.st.aboutStandIns}
	defer stderr.flush()
	if code := d.env.Bluemoon(d.ctx, d.home, stdout, stderr, args...); code != 0 {
		return fmt.Errorf("demo step 'bluemoon %s' exited with code %d", saved.Quote(args), code)
	}
	return nil
}

// hasAccount reports whether the demo's home already holds the account, so
// that a first run does not show an "account remove" failing for nothing.
func (d *run) hasAccount(name string) bool {
	svc, err := core.Open(d.ctx, core.Options{Home: d.home})
	if err != nil {
		return false
	}
	defer svc.Close()
	_, err = svc.Account(d.ctx, name)
	return err == nil
}

// browser plays the person at the browser: the stand-ins consent by
// themselves, so it only follows the redirects back to bluemoon.
func (d *run) browser(url string) {
	d.printf("The demo's stand-in browser opens this address; the stand-in consents by itself.\n")
	go func() {
		if _, err := (&oauthsrv.Browser{}).SignIn(d.ctx, url); err != nil {
			fmt.Fprintf(d.env.Err, "demo browser: %v\n", err)
		}
	}()
}

func (d *run) setUpAccount(p *Provider) error {
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
	// The stand-ins' endpoints are not the providers' own, so import needs
	// consent to them (a real file with the providers' endpoints does not).
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
	// Without a system browser to open, the sign-in address is printed
	// (--no-browser) and the demo's own browser follows it.
	return d.bluemoon(&urlCatcher{w: d.env.Out, open: d.browser}, "login", acct, "--no-browser")
}

func (d *run) deliver(p *Provider, charset string, sjis bool, rows []Recipient) (int64, error) {
	kind := string(p.Kind)
	enc := "UTF-8"
	if sjis {
		enc = "Shift_JIS"
	}
	d.heading(fmt.Sprintf("%s: deliver %d personalised messages in %s from a %s list", kind, len(rows), strings.ToUpper(charset), enc))
	listFile := filepath.Join(d.work, "members-"+kind+".csv")
	if err := WriteCSV(listFile, rows, sjis); err != nil {
		return 0, err
	}
	bodyFile := filepath.Join(d.work, "statement.txt")
	attFile := filepath.Join(d.work, AttachmentName)
	if err := os.WriteFile(bodyFile, []byte(TextBody), 0o600); err != nil {
		return 0, err
	}
	if err := os.WriteFile(attFile, []byte(AttachmentText), 0o600); err != nil {
		return 0, err
	}
	var out strings.Builder
	err := d.bluemoon(io.MultiWriter(d.env.Out, &out), "send", "--account", "demo-"+kind, "--recipients", listFile,
		"--subject", Subject, "--text", bodyFile, "--attach", attFile, "--charset", charset,
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
func (d *run) showResult(p *Provider, id int64, to string) error {
	kind := string(p.Kind)
	d.heading(fmt.Sprintf("%s: the report (every recipient's outcome; first lines shown)", kind))
	var rep strings.Builder
	if err := d.bluemoon(&rep, "deliveries", "report", strconv.FormatInt(id, 10), "--csv"); err != nil {
		return err
	}
	lines := strings.Split(strings.TrimRight(rep.String(), "\n"), "\n")
	for i, l := range lines {
		if i == 4 {
			d.printf("  … %d more rows\n", len(lines)-4)
			break
		}
		d.printf("  %s\n", l)
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
	d.printf("The %s %s stand-in accepted %d message(s).\n", kind, server, len(msgs))
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
	dec, err := message.Decode(m.Data)
	if err != nil {
		return fmt.Errorf("demo: decode a delivered message: %w", err)
	}
	d.heading(fmt.Sprintf("%s: one delivered message, decoded as a mail reader would (%d bytes, %s)", kind, len(m.Data), strings.ToUpper(dec.Charset)))
	d.printf("  From:    %s\n  To:      %s\n  Subject: %s\n  Attachments: %s\n\n", dec.From, dec.To, dec.Subject, attachmentNames(dec))
	for _, l := range strings.Split(strings.TrimRight(dec.Text, "\n"), "\n") {
		d.printf("  | %s\n", l)
	}
	return nil
}

func attachmentNames(d *message.Decoded) string {
	var names []string
	for _, a := range d.Attachments {
		names = append(names, a.Filename)
	}
	return strings.Join(names, ", ")
}
