package smtpsrv

import (
	"bytes"
	"io"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	auth bool
	from string
	to   []string
}

// Replies as the real servers word them.
var (
	// Gmail repeats the enhanced code on every line of a multi-line reply.
	gmailBadCredentials = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.NoEnhancedCode,
		Message: "5.7.8 Username and Password not accepted. For more information, go to\n5.7.8  https://support.google.com/mail/?p=BadCredentials sandbox.gsmtp"}
	msAuthUnsuccessful = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 3},
		Message: "Authentication unsuccessful [SANDBOX.outlook.office365.com]"}
	msAuthDisabled = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 139},
		Message: "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [SANDBOX.outlook.office365.com]"}
	gmailAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.NoEnhancedCode,
		Message: "5.7.0 Authentication Required. For more information, go to\n5.7.0  https://support.google.com/mail/?p=WantAuthError sandbox.gsmtp"}
	msAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 57},
		Message: "Client not authenticated to send mail. [SANDBOX.outlook.office365.com]"}
)

// gmailChallenge is what Gmail sends (base64 JSON in a 334) before its 535.
const gmailChallenge = `{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}`

func (x *session) AuthMechanisms() []string { return x.s.opts.Mechanisms }

func (x *session) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case "XOAUTH2":
		return &xoauth2Server{x: x}, nil
	case "PLAIN":
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			return x.checkPassword(mech, user, pass)
		}), nil
	case "LOGIN":
		return &loginServer{x: x}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (x *session) refusal() *smtp.SMTPError {
	if x.s.opts.Flavor == Microsoft {
		return msAuthUnsuccessful
	}
	return gmailBadCredentials
}

// gate applies the switches that refuse every AUTH.
func (x *session) gate() error {
	if err := x.s.fault(StageAuth); err != nil {
		return err
	}
	x.s.mu.Lock()
	disabled := x.s.authDisabled
	x.s.mu.Unlock()
	if disabled {
		return msAuthDisabled
	}
	return nil
}

func (x *session) succeed(mech, user string) {
	x.user, x.auth = user, true
	x.s.mu.Lock()
	x.s.authOK[mech]++
	x.s.mu.Unlock()
}

func (x *session) failed() {
	x.s.mu.Lock()
	x.s.authFailed++
	x.s.mu.Unlock()
}

func (x *session) checkPassword(mech, user, pass string) error {
	if err := x.gate(); err != nil {
		x.failed()
		return err
	}
	want, ok := x.s.opts.Passwords[user]
	if !ok || want != pass {
		x.failed()
		return x.refusal()
	}
	x.succeed(mech, user)
	return nil
}

// xoauth2Server: a good token is accepted at once; a bad one gets Gmail's
// 334 JSON challenge (answered by an empty line) then 535 5.7.8, or
// Microsoft's 535 5.7.3 straight away.
type xoauth2Server struct {
	x          *session
	challenged bool
}

func (a *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	x := a.x
	if a.challenged {
		if len(resp) != 0 {
			return nil, false, &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "expected an empty response to the challenge"}
		}
		return nil, false, gmailBadCredentials
	}
	if resp == nil {
		return []byte{}, false, nil // no initial response: ask for it
	}
	user, token, ok := parseXOAUTH2(resp)
	if !ok {
		x.failed()
		return nil, false, &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Cannot Decode response"}
	}
	if err := x.gate(); err != nil {
		x.failed()
		return nil, false, err
	}
	if x.s.opts.CheckToken == nil || x.s.opts.CheckToken(user, token) != nil {
		x.failed()
		if x.s.opts.Flavor == Gmail {
			a.challenged = true
			return []byte(gmailChallenge), false, nil
		}
		return nil, false, msAuthUnsuccessful
	}
	x.succeed("XOAUTH2", user)
	return nil, true, nil
}

func parseXOAUTH2(b []byte) (user, token string, ok bool) {
	for _, f := range strings.Split(string(b), "\x01") {
		switch {
		case strings.HasPrefix(f, "user="):
			user = f[len("user="):]
		case strings.HasPrefix(f, "auth=Bearer "):
			token = f[len("auth=Bearer "):]
		}
	}
	return user, token, user != "" && token != ""
}

// loginServer is the LOGIN mechanism (go-sasl has only its client side).
type loginServer struct {
	x    *session
	step int
	user string
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if len(resp) > 0 { // initial response carries the user
			l.user, l.step = string(resp), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user, l.step = string(resp), 2
		return []byte("Password:"), false, nil
	default:
		if err := l.x.checkPassword("LOGIN", l.user, string(resp)); err != nil {
			return nil, false, err
		}
		return nil, true, nil
	}
}

func (x *session) Mail(from string, opts *smtp.MailOptions) error {
	if !x.auth && !x.s.opts.AllowAnonymous {
		if x.s.opts.Flavor == Microsoft {
			return msAuthRequired
		}
		return gmailAuthRequired
	}
	if err := x.s.fault(StageMail); err != nil {
		return err
	}
	if err := x.s.throttle(); err != nil {
		return err
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if err := x.s.fault(StageRcpt); err != nil {
		return err
	}
	if x.s.unknown(to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message: "The email account that you tried to reach does not exist. sandbox.gsmtp"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	var err error
	if x.s.opts.Discard {
		_, err = io.Copy(io.Discard, r)
	} else {
		_, err = buf.ReadFrom(r)
	}
	if err != nil {
		return err
	}
	if err := x.s.fault(StageData); err != nil {
		return err
	}
	s := x.s
	m := Message{User: x.user, From: x.from, To: append([]string(nil), x.to...), Data: buf.Bytes(), At: s.opts.Now()}
	if s.opts.Deliver != nil && !s.opts.Discard {
		if err := s.opts.Deliver(m); err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Mailbox unavailable, try again later"}
		}
	}
	s.mu.Lock()
	s.accepted++
	if !s.opts.Discard && s.opts.Deliver == nil {
		s.messages = append(s.messages, m)
	}
	s.mu.Unlock()
	return nil
}

func (x *session) Reset() { x.from, x.to = "", nil }

func (x *session) Logout() error { return nil }
