// Package transport sends messages over SMTP: implicit TLS, STARTTLS or
// plain; AUTH XOAUTH2, PLAIN, LOGIN or none; and turns every server reply
// into a typed *Error that says what to do.
//
// It is built on github.com/emersion/go-smtp (the client half of the most
// used Go SMTP library, also used for our stand-in server) with a small
// XOAUTH2 SASL client of our own: go-sasl dropped its XOAUTH2 client, and the
// 334-JSON dance Gmail and Dovecot do needs the challenge kept for the error.
// STARTTLS's clear-text part and, when the server offers PIPELINING, the
// MAIL/RCPT/DATA transactions are done here, since go-smtp's client can do
// neither while handing us the connection.
//
// Use:
//
//	cfg, err := transport.ConfigFor(acct, password, tokens) // or a Config literal
//	cfg.RootCAs = pool                                      // tests: the server's CA
//	conn, err := transport.Dial(ctx, cfg)                   // connect, TLS, AUTH
//	reply, err := conn.Send(ctx, from, []string{to}, raw)   // "250 2.0.0 OK ..."
//	if conn.Broken() { /* dial again */ }
//	conn.Close()
//
// Errors are *Error: branch on Temporary(), AuthFailure(), Throttled().
package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
)

// TokenSource gives OAuth access tokens to the XOAUTH2 mechanism
// (internal/oauth implements it per account).
type TokenSource interface {
	// AccessToken returns a token valid for at least a safety margin,
	// refreshing it first if needed.
	AccessToken(ctx context.Context) (string, error)
	// RefreshRefused gets a new token after the server refused refused
	// ("": the current one); if another connection already replaced it,
	// the newer one.
	RefreshRefused(ctx context.Context, refused string) (string, error)
}

// Config says how to reach and authenticate to one SMTP server.
type Config struct {
	Host     string
	Port     int
	Security account.Security   // tls | starttls | none
	Auth     account.AuthMethod // xoauth2 | plain | login | none
	Username string
	Password string      // plain / login
	Tokens   TokenSource // xoauth2

	CAFile     string // extra CA bundle (PEM) to trust besides the system's
	ClientCert string // PEM file of a TLS client certificate
	ClientKey  string
	// RootCAs replaces the system pool (tests pass the stand-in's CA).
	RootCAs *x509.CertPool

	LocalName string // EHLO name; "localhost" when empty
	// NoPipelining sends MAIL, RCPT and DATA one round trip at a time even
	// when the server offers PIPELINING (RFC 2920).
	NoPipelining bool
	// NoChunking keeps SendBatch from using BDAT (RFC 3030) when the
	// server offers CHUNKING and PIPELINING; it then uses DATA.
	NoChunking bool
	Timeout    time.Duration // connect and per-command timeout; 60 s when zero
	// DialContext replaces net.Dialer (tests count or refuse connections).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Via says how messages leave: SMTP (the default) or a provider's
	// HTTPS API (internal/transport/mailapi), for which Tokens must be
	// for the API's scope and APIEndpoint is its base URL.
	Via         account.Via
	APIEndpoint string
}

// TLSConfig is the TLS client configuration the account asks for (CA file,
// client certificate), for the HTTPS APIs as for SMTP.
func (c *Config) TLSConfig() (*tls.Config, error) { return c.tlsConfig() }

// RequestTimeout is the per-request or per-command timeout (60 s when unset).
func (c *Config) RequestTimeout() time.Duration { return c.timeout() }

// ConfigFor builds a Config from an account. password is for plain/login,
// tokens for xoauth2; the other may be empty/nil.
func ConfigFor(a *account.Account, password string, tokens TokenSource) (Config, error) {
	c := Config{
		Host: a.SMTPHost, Port: a.SMTPPort, Security: a.Security, Auth: a.Auth,
		Username: a.LoginName(), Password: password, Tokens: tokens,
		CAFile: a.CAFile, ClientCert: a.ClientCert, ClientKey: a.ClientKey,
		Via: a.SendsVia(),
	}
	return c, c.check()
}

// Addr is host:port.
func (c *Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

func (c *Config) check() error {
	if c.Host == "" || c.Port <= 0 || c.Port > 65535 {
		return fmt.Errorf("SMTP server %q: need HOST and a PORT between 1 and 65535", c.Addr())
	}
	switch c.Security {
	case account.SecurityTLS, account.SecurityStartTLS, account.SecurityNone:
	default:
		return fmt.Errorf("security %q: use tls, starttls or none", c.Security)
	}
	switch c.Auth {
	case account.AuthXOAuth2:
		if c.Tokens == nil {
			return errors.New("auth xoauth2 needs a token source (sign in first)")
		}
	case account.AuthPlain, account.AuthLogin:
		if c.Password == "" {
			return fmt.Errorf("auth %s needs a password", c.Auth)
		}
	case account.AuthNone:
	default:
		return fmt.Errorf("auth %q: use xoauth2, plain, login or none", c.Auth)
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		return errors.New("client certificate and key go together")
	}
	return nil
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 60 * time.Second
}

// tlsConfig: TLS 1.2 or later, the server name checked against Host, the
// extra CA file added to the system pool, and the client certificate.
func (c *Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12, RootCAs: c.RootCAs}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := c.RootCAs
		if pool == nil {
			if pool, err = x509.SystemCertPool(); err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
		} else {
			pool = pool.Clone()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(c.ClientCert, c.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s / key %s: %w", c.ClientCert, c.ClientKey, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
