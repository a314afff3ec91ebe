// Package apisrv runs in-process HTTP servers on 127.0.0.1 that behave
// like the providers' mail APIs where a sender meets them: Microsoft
// Graph's POST /v1.0/me/sendMail (base64 MIME as text/plain, 202, 4 MB per
// request, at most 4 requests at once per mailbox) and the Gmail API's
// users.messages.send ({"raw"} and the uploadType=media upload, 200, 35 MB).
// Bearer tokens are checked with the OAuth stand-in (audience and scope,
// as the real services do), errors come in each provider's JSON, and
// throttling and the other refusals can be injected on demand. It records
// what it accepted.
package apisrv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/loopback"
)

// Flavor picks which API the server plays.
type Flavor int

const (
	Graph Flavor = iota
	Gmail
)

func (f Flavor) String() string {
	if f == Gmail {
		return "gmail-api"
	}
	return "graph"
}

// Fault is a refusal a test makes the server give.
type Fault int

const (
	None         Fault = iota
	Throttle           // 429 with Retry-After (Graph TooManyRequests, Gmail rateLimitExceeded)
	Unavailable        // 503 with Retry-After
	RateLimit403       // Gmail: 403 userRateLimitExceeded (Graph: as Throttle)
	Daily              // the daily sending limit (Gmail 429 "(Mail sending)", Graph ErrorSubmissionQuotaExceeded)
	AccessDenied       // 403 ErrorAccessDenied / Gmail domain policy
	NotEnabled         // Graph 404 MailboxNotEnabledForRESTAPI; Gmail 400 failedPrecondition
	BadRequest         // 400 for this message (Graph ErrorInvalidRecipients, Gmail invalidArgument)
	Internal           // 500 after the message was taken: the client cannot know
)

// Options configure a Server.
type Options struct {
	Flavor Flavor
	// CheckToken validates a bearer token and returns its user and scopes
	// (the OAuth stand-in's ValidateAccessToken fits). nil refuses all.
	CheckToken func(token string) (user string, scopes []string, err error)
	// MaxConcurrent: requests at once per mailbox before 429 (Graph's
	// MailboxConcurrency is 4, the default for Graph; 0 for Gmail: none).
	MaxConcurrent int
	// RetryAfter is what throttling replies ask for (default 1 s).
	RetryAfter time.Duration
	// Inject, when set, may refuse request k (1, 2, …) with a Fault.
	Inject func(k int64) Fault
	// OnAccept, when set, is called with the number of each accepted
	// message after it is recorded and before the reply (a test kills the
	// client there).
	OnAccept func(n int64)
	// BadRecipients get a 400 for the message addressed to them.
	BadRecipients []string
	// Discard keeps no message bodies (benchmarks); counts still kept.
	Discard bool
	// Addr is where to listen (default 127.0.0.1:0, a free port).
	Addr string
	// Deliver, when set, is given each accepted message; an error answers
	// 503 so the sender retries (the sandbox's mailbox could not store it).
	// The message is then Deliver's to keep: Messages does not hold it too.
	Deliver func(Message) error
}

// Message is one accepted message.
type Message struct {
	User   string // whose token sent it
	To     []string
	Data   []byte
	Upload string // "mime" (Graph), "raw" or "media" (Gmail)
	At     time.Time
}

// Server is a running stand-in.
type Server struct {
	opts Options
	ln   net.Listener
	srv  *http.Server
	url  string

	requests atomic.Int64
	accepted atomic.Int64
	conns    atomic.Int64 // connections open, idle ones included

	mu       sync.Mutex
	messages []Message
	inflight map[string]int
	fault    Fault // SetFault: every request until cleared
	refused  map[int]int
}

// Start listens on 127.0.0.1 (a free port) and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Flavor == Graph && opts.MaxConcurrent == 0 {
		opts.MaxConcurrent = 4
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	ln, err := loopback.Listen(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("apisrv: %w", err)
	}
	s := &Server{opts: opts, ln: ln, url: "http://" + ln.Addr().String(), inflight: map[string]int{}, refused: map[int]int{}}
	mux := http.NewServeMux()
	if opts.Flavor == Graph {
		mux.HandleFunc("POST /v1.0/me/sendMail", s.graphSend)
	} else {
		mux.HandleFunc("POST /gmail/v1/users/me/messages/send", s.gmailSend)
		mux.HandleFunc("POST /upload/gmail/v1/users/me/messages/send", s.gmailUpload)
	}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ConnState: s.track}
	go s.srv.Serve(ln)
	return s, nil
}

// track counts open connections, so a test can wait for the requests a
// killed client left behind. Counting handlers would not do: a request
// still in the socket's buffer has no handler yet, and its message
// would arrive after the test took stock.
func (s *Server) track(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		s.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		s.conns.Add(-1)
	}
}

// URL is the base address to give as the credential's api_endpoint.
func (s *Server) URL() string { return s.url }

// Port is the listening port.
func (s *Server) Port() int { return loopback.Port(s.ln) }

// Flavor says which API the server plays.
func (s *Server) Flavor() Flavor { return s.opts.Flavor }

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// SetFault makes every request get f until SetFault(None).
func (s *Server) SetFault(f Fault) { s.mu.Lock(); s.fault = f; s.mu.Unlock() }

// Messages returns a copy of the accepted messages, oldest first (none
// with Discard or Deliver).
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Accepted counts accepted messages (also with Discard).
func (s *Server) Accepted() int64 { return s.accepted.Load() }

// Requests counts the requests received.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Refused counts the refusals given, by HTTP status.
func (s *Server) Refused() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]int{}
	for k, v := range s.refused {
		out[k] = v
	}
	return out
}

// WaitIdle waits, at most timeout, until every connection has closed:
// once a client is dead, that is when all it wrote has been read and
// answered. (A live client's idle keep-alive connection keeps it waiting.)
func (s *Server) WaitIdle(timeout time.Duration) bool {
	end := time.Now().Add(timeout)
	for s.conns.Load() > 0 {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// enter counts a request of user against the mailbox's concurrency limit.
func (s *Server) enter(user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.MaxConcurrent > 0 && s.inflight[user] >= s.opts.MaxConcurrent {
		return false
	}
	s.inflight[user]++
	return true
}

func (s *Server) leave(user string) {
	s.mu.Lock()
	s.inflight[user]--
	s.mu.Unlock()
}

// injected is the fault request k gets, if any.
func (s *Server) injected(k int64) Fault {
	s.mu.Lock()
	f := s.fault
	s.mu.Unlock()
	if f == None && s.opts.Inject != nil {
		f = s.opts.Inject(k)
	}
	return f
}

// deliver hands a message about to be accepted to Options.Deliver, if
// set; false means it could not be stored and the request is refused.
func (s *Server) deliver(user string, to []string, data []byte, upload string) bool {
	if s.opts.Deliver == nil || s.opts.Discard {
		return true
	}
	return s.opts.Deliver(Message{User: user, To: to, Data: data, Upload: upload, At: time.Now()}) == nil
}

// accept records a message, calls OnAccept and reports its number.
func (s *Server) accept(user string, to []string, data []byte, upload string) int64 {
	if !s.opts.Discard && s.opts.Deliver == nil {
		s.mu.Lock()
		s.messages = append(s.messages, Message{User: user, To: to, Data: data, Upload: upload, At: time.Now()})
		s.mu.Unlock()
	}
	n := s.accepted.Add(1)
	if s.opts.OnAccept != nil {
		s.opts.OnAccept(n)
	}
	return n
}

func (s *Server) badRecipient(to []string) string {
	for _, a := range to {
		for _, b := range s.opts.BadRecipients {
			if strings.EqualFold(a, b) {
				return a
			}
		}
	}
	return ""
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, body string) {
	if status >= 400 {
		s.mu.Lock()
		s.refused[status]++
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

func (s *Server) retrySeconds() string {
	return fmt.Sprint(max(1, int((s.opts.RetryAfter+time.Second-1)/time.Second)))
}

func newID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// bearer is the request's token, checked: its user and scopes.
func (s *Server) bearer(r *http.Request) (user string, scopes []string, err error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return "", nil, fmt.Errorf("no bearer token")
	}
	if s.opts.CheckToken == nil {
		return "", nil, fmt.Errorf("no tokens are accepted")
	}
	return s.opts.CheckToken(tok)
}

// readBody reads at most max bytes of the body; tooLarge when it has more.
func readBody(r *http.Request, max int64) (body []byte, tooLarge bool, err error) {
	if r.ContentLength > max {
		return nil, true, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if int64(len(b)) > max {
		return nil, true, nil
	}
	return b, false, err
}
