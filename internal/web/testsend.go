package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/message"
)

// テスト送信: one message through the account, to itself or an address
// given; the outcome in plain words with the fix, the server's reply
// behind "details".

func (s *Server) testSendRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /accounts/{name}/test", s.testSendPage)
	mux.HandleFunc("POST /accounts/{name}/test", s.testSendRun)
}

type testSendPage struct {
	Account *core.AccountInfo
	To      string
	Subject string
	Charset string
	Result  *core.TestSendResult
	Problem *problem
}

func (s *Server) testSendPage(w http.ResponseWriter, r *http.Request) {
	s.renderTestSend(w, r, http.StatusOK, &testSendPage{Charset: "utf-8"})
}

func (s *Server) renderTestSend(w http.ResponseWriter, r *http.Request, status int, p *testSendPage) {
	v := s.newView(r, "accounts", nil)
	info, err := s.svc.Account(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	p.Account = info
	if p.To == "" {
		p.To = info.From
	}
	v.flagField(p.Problem)
	v.Title = v.T("test.title", info.Name)
	v.Data = p
	s.render(w, status, "testsend", v)
}

func (s *Server) testSendRun(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "accounts", nil)
	p := &testSendPage{To: strings.TrimSpace(r.PostFormValue("to")), Subject: r.PostFormValue("subject"), Charset: r.PostFormValue("charset")}
	res, err := s.svc.TestSend(r.Context(), core.TestSendInput{Account: r.PathValue("name"), To: p.To, Subject: p.Subject, Charset: p.Charset})
	status := http.StatusOK
	if err != nil {
		pr := v.explain(err)
		var ce *message.CharsetError
		if errors.As(err, &ce) {
			// Which text holds which character, and the way out.
			part := ce.Field
			if k := "check.part." + charsetPart(ce.Field); v.Has(k) {
				part = v.T(k)
			}
			pr.Message, pr.Fix = v.T("test.error.charset", part, string(ce.Char)), v.T("test.fix.charset")
		}
		p.Problem = &pr
		status = http.StatusUnprocessableEntity
	}
	p.Result = res
	s.renderTestSend(w, r, status, p)
}

// charsetPart is the catalogue's word ("check.part.<word>") for the text a
// message.CharsetError names.
func charsetPart(field string) string {
	switch field {
	case "Subject":
		return "subject"
	case "Text":
		return "text"
	case "HTML":
		return "html"
	case "From name":
		return "from_name"
	}
	return ""
}
