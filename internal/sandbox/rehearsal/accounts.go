package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/demo"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// ensureAccounts makes, through core as a person would, whatever the
// sandbox's three accounts need and is missing: a credential file per
// provider (made, written beside the state, imported), the accounts, and
// the stand-ins' CA files. It also follows the stand-ins when a port had
// to change: a new credential file imported over the old one, the
// account's SMTP port edited. Sign-ins are left to the person (the
// stand-in's consent page is the rehearsal of the real one).
func (r *Rehearsal) ensureAccounts(ctx context.Context, svc *core.Service) error {
	if r.st.Imported == nil {
		r.st.Imported = map[string]string{}
	}
	for _, p := range []*demo.Provider{r.Google, r.Microsoft} {
		if err := r.ensureCredentials(ctx, svc, p); err != nil {
			return err
		}
		sec := "starttls"
		name := MicrosoftAccount
		if p.Kind == provider.Google {
			sec, name = "tls", GoogleAccount
		}
		ca, err := r.writeCA(name, p.SMTP.WriteCAFile)
		if err != nil {
			return err
		}
		in := core.AccountInput{From: core.Ptr(p.From), FromName: core.Ptr("ブルームーン会員事務局"), Credentials: core.Ptr(credName(p.Kind)),
			SMTPHost: core.Ptr(p.SMTP.Host()), SMTPPort: core.Ptr(p.SMTP.Port()), Security: core.Ptr(sec), CAFile: &ca}
		if err := r.ensureAccount(ctx, svc, name, in); err != nil {
			return err
		}
	}
	ca, err := r.writeCA(RelayAccount, r.Relay.WriteCAFile)
	if err != nil {
		return err
	}
	return r.ensureAccount(ctx, svc, RelayAccount, core.AccountInput{From: core.Ptr(RelayFrom), FromName: core.Ptr("ブルームーン会員事務局"),
		Auth: core.Ptr("plain"), Password: core.Ptr(relayPassword), SMTPHost: core.Ptr(r.Relay.Host()), SMTPPort: core.Ptr(r.Relay.Port()),
		Security: core.Ptr("starttls"), CAFile: &ca, PerMinute: core.Ptr(0)})
}

func credName(kind provider.Kind) string { return "sandbox-" + string(kind) }

// writeCA writes a stand-in's CA (new on every start) where its account
// looks for it.
func (r *Rehearsal) writeCA(name string, write func(dir string) (string, error)) (string, error) {
	dir := filepath.Join(r.Home, stateDir, "ca", name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return write(dir)
}

// ensureCredentials makes and imports p's credential file when it is
// missing or was made for other ports.
func (r *Rehearsal) ensureCredentials(ctx context.Context, svc *core.Service, p *demo.Provider) error {
	name := credName(p.Kind)
	made := p.OAuth.URL() + " " + p.API.URL()
	_, err := svc.Credential(ctx, name)
	if err == nil && r.st.Imported[name] == made {
		return nil
	}
	if err != nil && !errors.Is(err, core.ErrNotFound) {
		return err
	}
	cfg := p.OAuth.Config("")
	data, _, err := svc.CreateCredentialFile(ctx, core.CreateInput{Provider: string(p.Kind), Tenant: cfg.Tenant, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, AuthEndpoint: cfg.AuthEndpoint, AuthScope: cfg.AuthScope, TokenEndpoint: cfg.TokenEndpoint,
		TokenScope: cfg.TokenScope, DeviceEndpoint: cfg.DeviceEndpoint, RevokeEndpoint: cfg.RevokeEndpoint,
		UserinfoEndpoint: cfg.UserinfoURL, APIEndpoint: p.API.URL()})
	if err != nil {
		return fmt.Errorf("make the %s credential file: %w", p.Kind, err)
	}
	file := filepath.Join(r.Home, stateDir, name+".bmcred")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return err
	}
	// The stand-ins' endpoints are not the providers' own, so the import
	// accepts them, as a person does for a file their administrator made.
	if _, err := svc.ImportCredentialFile(ctx, core.ImportInput{Source: file, Data: data, Name: name,
		AcceptCustomEndpoints: true, Replace: true}); err != nil {
		return fmt.Errorf("import the %s credential file: %w", p.Kind, err)
	}
	r.st.Imported[name] = made
	r.Made = append(r.Made, "credentials "+name)
	return nil
}

// ensureAccount adds the account, or points an existing one at where its
// stand-in listens now; anything else the person changed is theirs.
func (r *Rehearsal) ensureAccount(ctx context.Context, svc *core.Service, name string, in core.AccountInput) error {
	a, err := svc.Account(ctx, name)
	if errors.Is(err, core.ErrNotFound) {
		if _, err := svc.AddAccount(ctx, name, in); err != nil {
			return fmt.Errorf("add the sandbox account %s: %w", name, err)
		}
		r.Made = append(r.Made, "account "+name)
		return nil
	}
	if err != nil {
		return err
	}
	if a.SMTPHost == *in.SMTPHost && a.SMTPPort == *in.SMTPPort && a.CAFile == *in.CAFile {
		return nil
	}
	_, err = svc.EditAccount(ctx, name, core.AccountInput{SMTPHost: in.SMTPHost, SMTPPort: in.SMTPPort, CAFile: in.CAFile})
	return err
}
