package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// bdatBreaker stands in front of an SMTP server that offers CHUNKING but
// mishandles BDAT: on a client's BDAT command it drops the connection.
// It counts the BDAT commands it saw.
type bdatBreaker struct {
	addr string
	bdat atomic.Int64
}

func startBDATBreaker(t *testing.T, backend string) *bdatBreaker {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	b := &bdatBreaker{addr: l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go b.serve(c, backend)
		}
	}()
	return b
}

func (b *bdatBreaker) serve(c net.Conn, backend string) {
	defer c.Close()
	s, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer s.Close()
	go io.Copy(c, s)
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadSlice('\n')
		if len(line) >= 5 && bytes.EqualFold(line[:5], []byte("BDAT ")) {
			b.bdat.Add(1)
			return
		}
		if _, werr := s.Write(line); werr != nil || err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// --no-chunking reaches the transport: a send through a server that breaks
// on BDAT gets every message through with DATA, and the delivery keeps the
// setting, so a later resume without the flag never uses BDAT either.
func TestNoChunkingAvoidsBDATOnSendAndResume(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	px := startBDATBreaker(t, srv.Addr)
	putAccount := func(name string, perDay int) {
		db, err := store.Open(context.Background(), home)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		host, port, _ := net.SplitHostPort(px.addr)
		p, _ := strconv.Atoi(port)
		if err := (&account.Store{DB: db.DB}).Put(context.Background(), &account.Account{
			Name: name, From: "news@example.com", SMTPHost: host, SMTPPort: p,
			Security: account.SecurityNone, Auth: account.AuthNone,
			Limits: provider.Limits{Connections: 1, PerDay: perDay},
		}); err != nil {
			t.Fatal(err)
		}
	}
	var list strings.Builder
	list.WriteString("email\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&list, "r%02d@example.com\n", i)
	}
	lp := writeTemp(t, dir, "list.csv", list.String())
	body := writeTemp(t, dir, "body.txt", "Hello\n")
	send := func(acct string, extra ...string) result {
		return runCLI(t, home, "", append([]string{"send", "--account", acct, "--recipients", lp, "--subject", "Hi", "--text", body, "--unattended"}, extra...)...)
	}

	// Without the flag the transport batches with BDAT: the control case.
	putAccount("plain", 0)
	if r := send("plain"); r.Code == 0 || px.bdat.Load() == 0 {
		t.Fatalf("without --no-chunking: exit %d, %d BDAT seen; want a failed delivery through BDAT\n%s\n%s", r.Code, px.bdat.Load(), r.Stdout, r.Stderr)
	}
	px.bdat.Store(0)
	before := srv.Count()

	// With it: 25 sent, then the daily limit pauses the delivery.
	putAccount("nochunk", 25)
	r := send("nochunk", "--no-chunking")
	if r.Code != 5 || srv.Count()-before != 25 {
		t.Fatalf("send --no-chunking: exit %d, %d received, want 5 and 25\n%s\n%s", r.Code, srv.Count()-before, r.Stdout, r.Stderr)
	}
	if s := mustRun(t, home, "deliveries", "show", "2", "--json"); !strings.Contains(s.Stdout, `"no_chunking": true`) {
		t.Errorf("show does not say the delivery is sent without chunking:\n%s", s.Stdout)
	}
	putAccount("nochunk", 0)
	if r := runCLI(t, home, "", "deliveries", "resume", "2", "--unattended"); r.Code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if got := srv.Count() - before; got != 40 || px.bdat.Load() != 0 {
		t.Errorf("after resume: %d received (want 40), %d BDAT commands (want 0)", got, px.bdat.Load())
	}
}
