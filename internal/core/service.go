package core

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/home"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// Options say where a Service keeps its data and what it reaches the
// outside world with. Zero values take the defaults.
type Options struct {
	// Home is the data folder: "" means $BLUEMOON_HOME, else the user
	// config folder + bluemoon. It is made (0700) if missing.
	Home string
	// HTTPClient talks to the OAuth endpoints (default: Go's).
	HTTPClient *http.Client
	// OpenBrowser opens a sign-in page in SignInBrowser mode (default: the
	// system browser).
	OpenBrowser func(url string) error
	// Clock is the time now (default time.Now).
	Clock func() time.Time
	// Logger receives what unattended jobs log: runs, alerts, waits.
	// Default: nothing is logged.
	Logger *slog.Logger
}

// Service is bluemoon's use cases over one data home, for every face: the
// CLI and the web console call the same methods. It is safe for use by
// several goroutines. Open one per home and Close it when done.
type Service struct {
	opts Options
	home string
	db   *store.DB
	log  *slog.Logger

	secOnce sync.Once
	sec     *secrets.Store
	secErr  error

	// Work this process runs in the background: sign-ins waiting for a
	// person, deliveries started with StartDelivery / StartResume. Close
	// stops it (deliveries pause cleanly).
	bg     context.Context
	stopBG context.CancelFunc
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	signIns map[string]*SignIn // by account
	runs    map[int64]*bgRun   // by delivery ID

	served bgServe // the scheduler StartServe runs in this process
}

// Open opens the data home's database (creating and migrating it as
// needed) and returns the Service over it.
func Open(ctx context.Context, opts Options) (*Service, error) {
	dir, err := home.Resolve(opts.Home)
	if err != nil {
		return nil, err
	}
	if err := home.Ensure(dir); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.OpenBrowser == nil {
		opts.OpenBrowser = oauth.OpenBrowser
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	bg, stop := context.WithCancel(context.Background())
	return &Service{opts: opts, home: dir, db: db, log: log, bg: bg, stopBG: stop,
		signIns: map[string]*SignIn{}, runs: map[int64]*bgRun{}}, nil
}

// Home is the data folder the Service works in.
func (s *Service) Home() string { return s.home }

// Close cancels sign-ins still waiting, pauses deliveries running in the
// background of this process (as Ctrl-C would: they can be resumed), waits
// for them, and closes the database.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.stopBG()
		s.mu.Unlock()
		s.wg.Wait()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// ErrClosed is returned when background work is asked of a closed Service.
var ErrClosed = errors.New("the bluemoon service is closed")

// background counts one more piece of background work, unless the
// Service is closing: Close then waits for it.
func (s *Service) background() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bg.Err() != nil {
		return ErrClosed
	}
	s.wg.Add(1)
	return nil
}

func (s *Service) now() time.Time { return s.opts.Clock() }

// secrets opens the home's secret store (tokens, passwords, client
// secrets) on first use: commands that need none never touch the keyring.
func (s *Service) secrets() (*secrets.Store, error) {
	s.secOnce.Do(func() { s.sec, s.secErr = secrets.Open(s.home) })
	return s.sec, s.secErr
}

func (s *Service) accounts() *account.Store { return &account.Store{DB: s.db.DB} }

func (s *Service) credentials() (*credstore.Store, error) {
	sec, err := s.secrets()
	if err != nil {
		return nil, err
	}
	return &credstore.Store{DB: s.db.DB, Secrets: sec}, nil
}
