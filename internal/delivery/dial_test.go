package delivery

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

func transportDialer(addr string) Dialer { return transportDialerOpts(addr, false) }

// transportDialerOpts: noChunking keeps the transport from BDAT, so a
// batch goes with DATA (one round trip per message). Its sessions count
// their batches.
func transportDialerOpts(addr string, noChunking bool) Dialer {
	host, port, _ := strings.Cut(addr, ":")
	p, _ := strconv.Atoi(port)
	cfg, err := transport.ConfigFor(&account.Account{SMTPHost: host, SMTPPort: p, Security: account.SecurityNone, Auth: account.AuthNone, From: "news@example.com"}, "", nil)
	if err != nil {
		panic(err)
	}
	cfg.NoChunking = noChunking
	dial := TransportDialer(cfg)
	return func(ctx context.Context, refresh bool) (Mailer, error) {
		m, err := dial(ctx, refresh)
		if err != nil {
			return nil, err
		}
		return countingMailer{m.(BatchMailer)}, nil
	}
}

// benchBatches and benchBatched count SendBatch calls and their messages.
var benchBatches, benchBatched atomic.Int64

type countingMailer struct{ BatchMailer }

func (m countingMailer) SendBatch(ctx context.Context, from string, items []Item) {
	benchBatches.Add(1)
	benchBatched.Add(int64(len(items)))
	m.BatchMailer.SendBatch(ctx, from, items)
}

func (m countingMailer) Stop(deadline time.Time) { m.BatchMailer.(Stopper).Stop(deadline) }
