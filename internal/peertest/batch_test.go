package peertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// SendBatch against real servers: several messages in flight on one session (PIPELINING, with
// BDAT when CHUNKING is offered, or DATA). Through Dovecot, whose relay refuses and defers
// recipients at RCPT, a refusal fails only its own message and the transactions after it (begun
// with RSET) go through; through Postfix every message arrives. Each reply belongs to its
// message: the sink gets exactly the accepted ones, intact.
func TestTransportBatchThroughDovecotAndPostfix(t *testing.T) {
	p := needPeers(t)
	for _, srv := range []struct {
		name, addr string
		refusals   bool // the relay refuses at RCPT time (Dovecot proxies RCPT; Postfix queues)
	}{
		{"dovecot", p.Submission, true},
		{"postfix", p.Postfix, false},
	} {
		for _, noChunking := range []bool{false, true} {
			name := srv.name + "/bdat"
			if noChunking {
				name = srv.name + "/data"
			}
			t.Run(name, func(t *testing.T) {
				tc := peerConfig(t, srv.addr, account.SecurityStartTLS, account.AuthPlain)
				tc.Username, tc.Password, tc.NoChunking = p.PlainUser, p.PlainPass, noChunking
				c, err := dial(t, tc)
				if err != nil {
					t.Fatal(err)
				}
				to := []string{"b1@bluemoon.test", "b2@bluemoon.test", "b3@bluemoon.test", "b4@bluemoon.test", "b5@bluemoon.test", "b6@bluemoon.test"}
				want := map[int]int{} // message -> expected refusal code
				if srv.refusals {
					to[1], to[3], to[5] = rejectPrefix+"b2@bluemoon.test", deferPrefix+"b4@bluemoon.test", rejectPrefix+"b6@bluemoon.test"
					want = map[int]int{1: 550, 3: 450, 5: 550}
				}
				msgs := make([]transport.Envelope, len(to))
				ids := make([]string, len(to))
				for i, rcpt := range to {
					m, raw := testMessage(t, p.PlainUser, rcpt, "utf-8")
					msgs[i] = transport.Envelope{From: p.PlainUser, To: []string{rcpt}, Msg: raw}
					ids[i] = "<" + m.MessageID + ">"
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				for round := 0; round < 2; round++ { // the second batch follows a refused last message
					out := make([]transport.Result, len(msgs))
					c.SendBatch(ctx, msgs, out)
					for i, r := range out {
						if code, refused := want[i]; refused {
							var te *transport.Error
							if !errors.As(r.Err, &te) || te.Code != code || te.Recipient != to[i] || te.Uncertain() || te.NotSent() {
								t.Errorf("round %d message %d to %s: %v, want %d for that recipient", round, i, to[i], r.Err, code)
							}
							continue
						}
						if r.Err != nil || r.Reply.Code != 250 {
							t.Fatalf("round %d message %d: %+v", round, i, r)
						}
						got, _ := sink.waitMessageID(t, ids[i])
						if len(got.To) != 1 || got.To[0] != to[i] {
							t.Errorf("round %d message %d went to %v, want %s", round, i, got.To, to[i])
						}
					}
					if c.Broken() {
						t.Fatalf("round %d: the session broke", round)
					}
					for i := range msgs { // new Message-IDs for the next round
						m, raw := testMessage(t, p.PlainUser, to[i], "utf-8")
						msgs[i].Msg, ids[i] = raw, "<"+m.MessageID+">"
					}
				}
			})
		}
	}
}
