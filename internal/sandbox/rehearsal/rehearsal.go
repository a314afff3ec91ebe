// Package rehearsal sets up `bluemoon sandbox`: a data home of its own
// where the Google-like and Microsoft-like stand-ins and a plain SMTP relay
// run on 127.0.0.1, with accounts pointing at them, and everything they
// accept lands in a mailbox the console's Inbox shows. A person can
// rehearse a whole delivery without mailing anyone.
//
// The home is kept between runs (accounts, sign-ins, deliveries, the
// stand-ins' ports and grants, the mailbox) until Reset.
package rehearsal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/demo"
	"github.com/bluemoon-mail/bluemoon/internal/loopback"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/mailbox"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
)

// Account names the sandbox makes.
const (
	GoogleAccount    = "google"
	MicrosoftAccount = "microsoft"
	RelayAccount     = "relay"
)

// Relay's sign-in: a password account on the stand-in relay.
const (
	RelayFrom     = "relay@example.org"
	relayPassword = "sandbox-relay-password"
)

// stateDir is the sandbox's own folder inside its data home; its
// state.json marks the home as a sandbox (Reset removes nothing else).
const stateDir = "sandbox"

// DefaultHome is where the sandbox lives unless told otherwise: beside the
// normal data home, never in it.
func DefaultHome() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no folder for the sandbox: give --home (%w)", err)
	}
	return filepath.Join(dir, "bluemoon-sandbox"), nil
}

// state is what a start needs from the last one.
type state struct {
	Version   int        `json:"version"`
	Google    demo.Ports `json:"google"`
	Microsoft demo.Ports `json:"microsoft"`
	RelayPort int        `json:"relay_smtp"`
	// Imported is the sign-in server and API addresses each credential
	// file was made for; a new port means a new file, imported over it.
	Imported map[string]string `json:"imported,omitempty"`
}

// Rehearsal is a running sandbox: its stand-ins and mailbox.
type Rehearsal struct {
	Home      string
	Inbox     *mailbox.Store
	Google    *demo.Provider
	Microsoft *demo.Provider
	Relay     *smtpsrv.Server
	// Made lists what this start created (accounts, credentials); empty
	// when everything was there from an earlier run.
	Made []string
	st   state
}

// ErrNotSandbox refuses a folder that holds a data home which is not a
// sandbox's: the sandbox must never add stand-in accounts to, or remove,
// someone's real home.
var ErrNotSandbox = errors.New("this folder holds a bluemoon data home that is not a sandbox")

// Check says whether home may be used as a sandbox: missing, empty, or
// marked as one.
func Check(home string) error {
	if _, err := os.Stat(filepath.Join(home, stateDir, "state.json")); err == nil {
		return nil
	}
	ents, err := os.ReadDir(home)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("%s: %w; give another --home", home, ErrNotSandbox)
	}
	return nil
}

// Prepare makes home a sandbox home (the marker Check and Reset look
// for) before anything else is written in it; a folder holding another
// data home is refused.
func Prepare(home string) error {
	if err := Check(home); err != nil {
		return err
	}
	r := &Rehearsal{Home: home}
	if err := os.MkdirAll(filepath.Join(home, stateDir), 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(r.statePath()); err == nil {
		return nil
	}
	r.st = state{Version: 1}
	return r.save()
}

// Start runs the stand-ins at last time's ports (free ones when those are
// taken), delivering into the home's mailbox, and makes whatever accounts
// and credentials are missing through svc, which must be open on a home
// Prepare marked.
// maxInbox bounds the mailbox (0: mailbox.DefaultMax).
func Start(ctx context.Context, svc *core.Service, maxInbox int) (r *Rehearsal, err error) {
	home := svc.Home()
	dir := filepath.Join(home, stateDir)
	r = &Rehearsal{Home: home}
	if err := r.load(); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w (Prepare marks a sandbox home first)", home, ErrNotSandbox)
	} else if err != nil {
		return nil, err
	}
	if r.Inbox, err = mailbox.Open(filepath.Join(dir, "inbox"), maxInbox); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	deliver := func(server string, m smtpsrv.Message) error {
		_, err := r.Inbox.Deliver(mailbox.Envelope{Server: server, User: m.User, From: m.From, To: m.To, At: m.At}, m.Data)
		return err
	}
	for _, p := range []struct {
		kind  provider.Kind
		dst   **demo.Provider
		ports demo.Ports
	}{{provider.Google, &r.Google, r.st.Google}, {provider.Microsoft, &r.Microsoft, r.st.Microsoft}} {
		*p.dst, err = demo.StartProvider(p.kind, demo.ProviderOptions{Ports: p.ports, ClientID: "sandbox-" + string(p.kind) + "-client",
			OAuthState: filepath.Join(dir, "oauth-"+string(p.kind)+".json"), Deliver: deliver})
		if err != nil {
			return nil, fmt.Errorf("start the %s stand-in: %w", p.kind, err)
		}
	}
	if r.Relay, err = startRelay(r.st.RelayPort, deliver); err != nil {
		return nil, fmt.Errorf("start the SMTP relay stand-in: %w", err)
	}
	r.st.Google, r.st.Microsoft, r.st.RelayPort = r.Google.Ports(), r.Microsoft.Ports(), r.Relay.Port()
	if err := r.save(); err != nil {
		return nil, err
	}
	if err := r.ensureAccounts(ctx, svc); err != nil {
		return nil, err
	}
	return r, r.save()
}

func startRelay(port int, deliver func(string, smtpsrv.Message) error) (s *smtpsrv.Server, err error) {
	err = loopback.AtPort(port, func(addr string) (err error) {
		s, err = smtpsrv.Start(smtpsrv.Options{Flavor: smtpsrv.Microsoft, Security: smtpsrv.StartTLS, Addr: addr,
			Passwords: map[string]string{RelayFrom: relayPassword}, Mechanisms: []string{"PLAIN", "LOGIN"},
			Deliver: func(m smtpsrv.Message) error { return deliver("relay-smtp", m) }})
		return err
	})
	return s, err
}

func (r *Rehearsal) statePath() string { return filepath.Join(r.Home, stateDir, "state.json") }

func (r *Rehearsal) load() error {
	b, err := os.ReadFile(r.statePath())
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &r.st); err != nil {
		return fmt.Errorf("%s is damaged (%v): run 'bluemoon sandbox --reset' to start afresh", r.statePath(), err)
	}
	return nil
}

func (r *Rehearsal) save() error {
	b, err := json.MarshalIndent(r.st, "", "  ")
	if err != nil {
		return err
	}
	tmp := r.statePath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, r.statePath())
}

// Close stops every stand-in.
func (r *Rehearsal) Close() error {
	var errs []error
	for _, p := range []*demo.Provider{r.Google, r.Microsoft} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	if r.Relay != nil {
		errs = append(errs, r.Relay.Close())
	}
	return errors.Join(errs...)
}

// Reset removes a sandbox home whole and says what it removed; a folder
// that is not a sandbox's is refused (ErrNotSandbox), a missing one is
// nothing to do.
func Reset(home string) (removed bool, err error) {
	if _, err := os.Stat(home); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err := Check(home); err != nil {
		return false, err
	}
	if err := os.RemoveAll(home); err != nil {
		return false, err
	}
	return true, nil
}
