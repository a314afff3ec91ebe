// Package testsend sends one message through an account to check its
// settings and sign-in (the guide's テスト送信), and records the outcome.
// The CLI and the web console both call it.
package testsend

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
	"github.com/bluemoon-mail/bluemoon/internal/transport/mailapi"
)

// Request is one test send.
type Request struct {
	Account *account.Account
	To      string
	Subject string // default: "bluemoon テスト送信 / test send (ACCOUNT)"
	Text    string // default: a short explanation
	Charset string // utf-8 (default) or iso-2022-jp
	Now     func() time.Time
}

// Send builds the message and sends it with cfg; it returns the server's
// final reply.
func Send(ctx context.Context, cfg transport.Config, r Request) (transport.Reply, error) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	a := r.Account
	subject := r.Subject
	if subject == "" {
		subject = "bluemoon テスト送信 / test send (" + a.Name + ")"
	}
	text := r.Text
	if text == "" {
		text = fmt.Sprintf("bluemoon のテスト送信です。アカウント %s（%s）から %s に送信しました。\n"+
			"This is a test message from bluemoon, sent through account %s (%s) at %s.\n",
			a.Name, a.From, now.Format("2006-01-02 15:04:05 MST"), a.Name, a.From, now.Format(time.RFC1123Z))
	}
	m := &message.Message{
		From:    message.Address{Name: a.FromName, Addr: a.From},
		To:      []message.Address{{Addr: r.To}},
		Subject: subject, Text: text, Charset: r.Charset, Date: now,
		Headers: map[string]string{"X-Bluemoon-Test-Send": a.Name},
	}
	raw, err := m.Bytes()
	if err != nil {
		return transport.Reply{}, err
	}
	if cfg.Via.API() {
		c, err := mailapi.New(cfg)
		if err != nil {
			return transport.Reply{}, err
		}
		defer c.Close()
		return c.SendOne(ctx, a.From, []string{r.To}, raw)
	}
	c, err := transport.Dial(ctx, cfg)
	if err != nil {
		return transport.Reply{}, err
	}
	defer c.Close()
	return c.Send(ctx, a.From, []string{r.To}, raw)
}

// Result is one recorded test send.
type Result struct {
	Account string    `json:"account"`
	To      string    `json:"to"`
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	Reply   string    `json:"reply"` // the server's final reply or the error
	Class   string    `json:"error_class,omitempty"`
}

// ResultOf turns Send's outcome into a Result.
func ResultOf(acct, to string, at time.Time, reply transport.Reply, err error) Result {
	r := Result{Account: acct, To: to, At: at.UTC(), OK: err == nil}
	if err == nil {
		r.Reply = reply.String()
		return r
	}
	r.Reply = err.Error()
	var te *transport.Error
	var ae *mailapi.Error
	var si interface{ NeedsSignIn() bool }
	switch {
	case errors.As(err, &si) && si.NeedsSignIn():
		r.Class = "sign-in"
	case errors.As(err, &te):
		r.Class = te.Class.String()
	case errors.As(err, &ae):
		r.Class = ae.Class.String()
	}
	return r
}

// Record stores r in the test_sends table.
func Record(ctx context.Context, db *sql.DB, r Result) error {
	_, err := db.ExecContext(ctx, `INSERT INTO test_sends (account, to_addr, sent_at, ok, reply, error_class)
		VALUES (?, ?, ?, ?, ?, ?)`, r.Account, r.To, r.At.Format(time.RFC3339Nano), r.OK, r.Reply, r.Class)
	if err != nil {
		return fmt.Errorf("record test send: %w", err)
	}
	return nil
}

// History returns an account's test sends, newest first (all accounts when
// account is "").
func History(ctx context.Context, db *sql.DB, acct string, limit int) ([]Result, error) {
	rows, err := db.QueryContext(ctx, `SELECT account, to_addr, sent_at, ok, reply, error_class FROM test_sends
		WHERE ? = '' OR account = ? ORDER BY sent_at DESC, id DESC LIMIT ?`, acct, acct, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Result
	for rows.Next() {
		var r Result
		var at string
		if err := rows.Scan(&r.Account, &r.To, &at, &r.OK, &r.Reply, &r.Class); err != nil {
			return nil, err
		}
		r.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, r)
	}
	return out, rows.Err()
}
