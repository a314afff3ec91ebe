package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

func init() { register(loginCmd) }

func loginCmd(app *App) *cobra.Command {
	var noBrowser, device, paste bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "login ACCOUNT",
		Short: "Sign in to an OAuth account (Google or Microsoft) and store its tokens",
		Long: `Sign in to an account that sends with OAuth (auth xoauth2) and store its tokens.

By default the system browser opens on the provider's sign-in page and a
listener on 127.0.0.1 receives the answer. Without a browser on this machine:
  --no-browser  print the sign-in address alone on one line of stdout and wait;
                open it in a browser on this computer
  --device      device-code sign-in (Microsoft): open the printed address on any
                device and enter the printed code
  --paste       open the printed address in a browser on any computer, then
                paste back the address the browser ended on (works for Google)`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mode := core.SignInBrowser
			n := 0
			for _, f := range []struct {
				on bool
				m  core.SignInMode
			}{{noBrowser, core.SignInLink}, {device, core.SignInDevice}, {paste, core.SignInPaste}} {
				if f.on {
					mode = f.m
					n++
				}
			}
			if n > 1 {
				return exitcode.Usagef("--no-browser, --device and --paste are alternatives: give one")
			}
			if timeout < 0 {
				return exitcode.Usagef("--timeout %s: give a positive duration such as 5m", timeout)
			}
			_, err := app.login(cmd.Context(), args[0], mode, timeout)
			return err
		},
	}
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the sign-in address instead of opening a browser")
	cmd.Flags().BoolVar(&device, "device", false, "sign in with a code on another device (Microsoft)")
	cmd.Flags().BoolVar(&paste, "paste", false, "sign in on another computer and paste back the address the browser ended on")
	cmd.Flags().DurationVar(&timeout, "timeout", core.DefaultSignInTimeout, "how long to wait for the sign-in")
	return cmd
}

// login signs an account in and reports who signed in on stderr (stdout
// is kept for the URL or device code a script may read).
func (a *App) login(ctx context.Context, name string, mode core.SignInMode, timeout time.Duration) (*core.SignInResult, error) {
	svc, err := a.service(ctx)
	if err != nil {
		return nil, err
	}
	// The sign-in's listener notes refused requests from its own goroutine
	// while this one writes the prompt.
	stderr := &lockedWriter{w: a.Stderr}
	sig, err := svc.StartSignIn(ctx, name, core.SignInOptions{Mode: mode, Timeout: timeout,
		OnRefused: func(msg string) { fmt.Fprintf(stderr, "bluemoon: %s\n", msg) }})
	if err != nil {
		return nil, err
	}
	sig.Prompt.Write(a.Stdout, stderr)
	if mode == core.SignInPaste {
		go func() {
			// Nothing read (stdin closed) is a paste of nothing, which
			// the sign-in refuses, saying what to paste.
			line, _ := readAnswer(a.Stdin)
			sig.Paste(line)
		}()
	}
	res, err := sig.Wait(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range res.Notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	who := res.Identity
	if who == "" {
		who = "(the provider did not say who)"
	}
	a.Warnf("Signed in account %s as %s.\n", name, who)
	if res.Mismatch {
		a.Warnf("warning: the account sends as %s but %s signed in; the server will refuse mail from an address that user may not send as. "+
			"Run 'bluemoon login %s' again and choose %s.\n", res.Expected, res.Identity, name, res.Expected)
	}
	if res.NoRefreshToken {
		a.Warnf("warning: the provider gave no refresh token, so a new sign-in will be needed when the access token expires (%s)\n", a.when(res.Expiry))
	}
	return res, nil
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
