// Package signin signs an account in to an OAuth stand-in inside the
// process: the real loopback sign-in of internal/oauth, with the
// stand-in's browser playing the person. Tests and benchmarks that need a
// signed-in account (its token source, its stored refresh token) use it.
package signin

import (
	"context"
	"fmt"
	"io"

	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

// Account signs account in with cfg (the stand-in's Config, perhaps
// widened with WithAPIScope) and stores its tokens in st.
func Account(ctx context.Context, st *secrets.Store, account string, cfg provider.Config) error {
	errc := make(chan error, 1)
	_, err := oauth.Login(ctx, oauth.LoginOptions{
		Account: account, Config: cfg, Store: st, Stdout: io.Discard, Stderr: io.Discard,
		OpenBrowser: func(url string) error {
			go func() {
				_, err := (&oauthsrv.Browser{}).SignIn(ctx, url)
				errc <- err
			}()
			return nil
		},
	})
	if err != nil {
		select {
		case berr := <-errc:
			if berr != nil {
				return fmt.Errorf("%w (browser: %v)", err, berr)
			}
		default:
		}
		return err
	}
	return nil
}
