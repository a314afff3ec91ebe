package peertest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

// peers is where .ci/peers/start put everything (its env file, or the environment).
type peers struct {
	Issuer      string // oidc-provider, e.g. http://127.0.0.1:24080
	Submission  string // Dovecot submission, STARTTLS
	Submissions string // Dovecot submission, implicit TLS
	Sink        string // where Dovecot and Postfix relay accepted mail: the sink these tests run
	Postfix     string // Postfix: AUTH only after STARTTLS, credentials checked by Dovecot
	PostfixOpen string // Postfix without TLS, offering AUTH in the clear
	PostfixCert string // Postfix requiring a TLS client certificate signed by the test CA
	ClientCert  string // that client certificate and its key (PEM files)
	ClientKey   string
	CAFile      string // the CA that signed Dovecot's certificate
	DownDomain  string // mailboxes Dovecot checks at an OAuth server that does not answer
	PlainUser   string // passwd-file user for PLAIN / LOGIN
	PlainPass   string
}

const skipMsg = "real-peer test: run .ci/peers/start, then set BLUEMOON_PEERS=1 (docs/peers.md)"

// loadPeers reads the settings when BLUEMOON_PEERS=1: variables already in the environment win,
// the rest come from $BLUEMOON_PEERS_DIR/env (default /tmp/bluemoon-peers/env), which the start
// script writes, so `BLUEMOON_PEERS=1 go test ./internal/peertest` works without sourcing it.
func loadPeers() (*peers, error) {
	if os.Getenv("BLUEMOON_PEERS") != "1" {
		return nil, nil
	}
	vars := map[string]string{}
	dir := os.Getenv("BLUEMOON_PEERS_DIR")
	if dir == "" {
		dir = "/tmp/bluemoon-peers"
	}
	envFile := filepath.Join(dir, "env")
	if f, err := os.Open(envFile); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
			if ok {
				vars[k] = v
			}
		}
		f.Close()
	}
	get := func(k string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return vars[k]
	}
	p := &peers{
		Issuer:      get("BLUEMOON_PEER_OIDC_ISSUER"),
		Submission:  get("BLUEMOON_PEER_SUBMISSION"),
		Submissions: get("BLUEMOON_PEER_SUBMISSIONS"),
		Sink:        get("BLUEMOON_PEER_SINK"),
		Postfix:     get("BLUEMOON_PEER_POSTFIX"),
		PostfixOpen: get("BLUEMOON_PEER_POSTFIX_CLEAR"),
		PostfixCert: get("BLUEMOON_PEER_POSTFIX_CCERT"),
		ClientCert:  get("BLUEMOON_PEER_CLIENT_CERT"),
		ClientKey:   get("BLUEMOON_PEER_CLIENT_KEY"),
		CAFile:      get("BLUEMOON_PEER_CA_FILE"),
		DownDomain:  get("BLUEMOON_PEER_DOWN_DOMAIN"),
		PlainUser:   get("BLUEMOON_PEER_PLAIN_USER"),
		PlainPass:   get("BLUEMOON_PEER_PLAIN_PASSWORD"),
	}
	for name, v := range map[string]string{
		"BLUEMOON_PEER_OIDC_ISSUER": p.Issuer, "BLUEMOON_PEER_SUBMISSION": p.Submission,
		"BLUEMOON_PEER_SUBMISSIONS": p.Submissions, "BLUEMOON_PEER_SINK": p.Sink,
		"BLUEMOON_PEER_POSTFIX": p.Postfix, "BLUEMOON_PEER_POSTFIX_CLEAR": p.PostfixOpen,
		"BLUEMOON_PEER_POSTFIX_CCERT": p.PostfixCert, "BLUEMOON_PEER_CLIENT_CERT": p.ClientCert,
		"BLUEMOON_PEER_CLIENT_KEY": p.ClientKey,
		"BLUEMOON_PEER_CA_FILE":    p.CAFile, "BLUEMOON_PEER_DOWN_DOMAIN": p.DownDomain,
		"BLUEMOON_PEER_PLAIN_USER":     p.PlainUser,
		"BLUEMOON_PEER_PLAIN_PASSWORD": p.PlainPass,
	} {
		if v == "" {
			return nil, fmt.Errorf("BLUEMOON_PEERS=1 but %s is not set and not in %s: run .ci/peers/start first", name, envFile)
		}
	}
	return p, nil
}

// env and sink are set by TestMain when the peers are enabled.
var (
	env  *peers
	sink *sinkServer
)

// needPeers skips the test unless the real peers are running.
func needPeers(t *testing.T) *peers {
	t.Helper()
	if env == nil {
		t.Skip(skipMsg)
	}
	return env
}

func TestMain(m *testing.M) {
	p, err := loadPeers()
	if err != nil {
		fmt.Fprintln(os.Stderr, "peertest:", err)
		os.Exit(1)
	}
	if p == nil {
		fmt.Println("peertest: skipping, " + skipMsg)
		os.Exit(m.Run())
	}
	s, err := startSink(p.Sink)
	if err != nil {
		fmt.Fprintln(os.Stderr, "peertest:", err)
		os.Exit(1)
	}
	env, sink = p, s
	// The token stores the tests make keep their key in a file, never in a desktop keyring.
	os.Setenv(secrets.KeyringEnv, "off")
	code := m.Run()
	s.Close()
	os.Exit(code)
}
