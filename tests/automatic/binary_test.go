// Package automatic tests unattended operation end to end with the real
// bluemoon binary (built once per test run), the SMTP stand-in and, where a
// sign-in is involved, the OAuth stand-ins: what cron, Task Scheduler and
// systemd would see.
package automatic

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/store"
	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

// binary returns the bluemoon command under test, built once.
func binary(t *testing.T) string {
	t.Helper()
	return testbin.Path(t)
}

type result struct {
	Stdout, Stderr string
	Code           int
	Took           time.Duration
}

// env is a child environment in which opening a browser leaves a mark:
// the usual openers on PATH (and BROWSER) are replaced by a script that
// writes to browserMark, so a test can prove no browser was opened. One
// per test, so every command of a test shares the mark.
func env(t *testing.T) (vars []string, browserMark string) {
	t.Helper()
	envMu.Lock()
	defer envMu.Unlock()
	if e, ok := envs[t]; ok {
		return e.vars, e.mark
	}
	dir := t.TempDir()
	mark := filepath.Join(dir, "browser-opened")
	if runtime.GOOS != "windows" {
		script := "#!/bin/sh\necho \"$@\" >> " + mark + "\n"
		for _, name := range []string{"xdg-open", "open", "sensible-browser", "www-browser", "browser"} {
			os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755)
		}
	}
	e := testEnv{mark: mark, vars: append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"BROWSER="+filepath.Join(dir, "browser"), "DISPLAY=:0")}
	envs[t] = e
	t.Cleanup(func() { envMu.Lock(); delete(envs, t); envMu.Unlock() })
	return e.vars, e.mark
}

type testEnv struct {
	vars []string
	mark string
}

var (
	envMu sync.Mutex
	envs  = map[*testing.T]testEnv{}
)

// run runs the binary with --home home, stdin an open pipe nobody writes to
// (a person who never answers), and a minute's limit.
func run(t *testing.T, home string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), append([]string{"--home", home}, args...)...)
	cmd.Env, _ = env(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	cmd.Stdin = pr
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err = cmd.Run()
	pr.Close()
	r := result{Stdout: out.String(), Stderr: errb.String(), Took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("bluemoon %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("bluemoon %s did not finish within a minute: it waited for something\nstderr: %s", strings.Join(args, " "), r.Stderr)
	}
	return r
}

func mustRun(t *testing.T, home string, args ...string) result {
	t.Helper()
	r := run(t, home, args...)
	if r.Code != 0 {
		t.Fatalf("bluemoon %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r
}

const password = "correct horse battery"

// passwordAccount stores account "sales" (PLAIN over STARTTLS to srv) in a
// new home, as 'account add' would.
func passwordAccount(t *testing.T, srv *smtpsrv.Server) string {
	t.Helper()
	home := t.TempDir()
	caFile, err := srv.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	withDB(t, home, func(db *store.DB) {
		a := &account.Account{Name: "sales", From: "sales@example.com", SMTPHost: srv.Host(), SMTPPort: srv.Port(),
			Security: account.SecurityStartTLS, Auth: account.AuthPlain, CAFile: caFile}
		if err := (&account.Store{DB: db.DB}).Put(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	})
	st, err := secrets.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put("password:sales", []byte(password)); err != nil {
		t.Fatal(err)
	}
	return home
}

func withDB(t *testing.T, home string, f func(*store.DB)) {
	t.Helper()
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f(db)
}

// addSchedule stores s directly: the way to say "serve was down since
// s.CreatedAt" without waiting days.
func addSchedule(t *testing.T, home string, s *schedule.Schedule) {
	t.Helper()
	withDB(t, home, func(db *store.DB) {
		if err := (&schedule.Store{DB: db.DB}).Add(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	})
}

func readEvents(t *testing.T, path string) []alert.Event {
	t.Helper()
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var evs []alert.Event
	dec := json.NewDecoder(bytes.NewReader(raw))
	for dec.More() {
		var ev alert.Event
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("notify stdin is not JSON: %v\n%s", err, raw)
		}
		evs = append(evs, ev)
	}
	return evs
}

func startSMTP(t *testing.T) *smtpsrv.Server {
	t.Helper()
	srv, err := smtpsrv.Start(smtpsrv.Options{Passwords: map[string]string{"sales@example.com": password}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func needSh(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("notify commands here use /bin/sh")
	}
}

// withSaved calls f with the recipients path of saved delivery "news".
func withSaved(t *testing.T, home string, f func(recipients string)) {
	t.Helper()
	withDB(t, home, func(db *store.DB) {
		d, err := (&saved.Store{DB: db.DB}).Get(context.Background(), "news")
		if err != nil {
			t.Fatal(err)
		}
		f(d.Recipients)
	})
}
