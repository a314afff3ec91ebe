package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/mailbox"
)

// The sandbox's Inbox: what the stand-in servers accepted, decoded as a
// mail program shows it, so a person can see a rehearsed delivery arrive.
// Everything shown comes from a message, so it is data: escaped text, an
// HTML body only inside a frame that may run and fetch nothing, files
// only as downloads.

// inboxPage is how many messages one page of the list shows.
const inboxPage = 50

func (s *Server) inboxRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /inbox", s.inboxList)
	mux.HandleFunc("GET /inbox/status", s.inboxStatus)
	mux.HandleFunc("GET /inbox/{id}", s.inboxMessage)
	mux.HandleFunc("GET /inbox/{id}/eml", s.inboxEML)
	mux.HandleFunc("GET /inbox/{id}/html", s.inboxHTML)
	mux.HandleFunc("GET /inbox/{id}/attachments/{n}", s.inboxAttachment)
	mux.HandleFunc("POST /inbox/empty", s.inboxEmpty)
}

// inbox is the mailbox, or a not-found page outside the sandbox.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request) (*mailbox.Store, bool) {
	if !s.opts.Sandbox || s.opts.Inbox == nil {
		s.renderStatus(w, r, http.StatusNotFound, "notfound", nil)
		return nil, false
	}
	return s.opts.Inbox, true
}

type inboxListPage struct {
	Messages    []mailbox.Summary
	Total, Page int
	Pages       int
	Max         int
	From, To    int    // the rows shown, 1-based
	Newest      string // the newest message's id, for the page's poll
}

func (s *Server) inboxList(w http.ResponseWriter, r *http.Request) {
	box, ok := s.inbox(w, r)
	if !ok {
		return
	}
	v := s.newView(r, "inbox", nil)
	v.Title = v.T("inbox.title")
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	msgs, total, err := box.List((page-1)*inboxPage, inboxPage)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	for _, m := range msgs {
		if m.Damaged != nil {
			s.logf("console: %v", m.Damaged)
		}
	}
	p := &inboxListPage{Messages: msgs, Total: total, Page: page, Pages: max(1, (total+inboxPage-1)/inboxPage), Max: box.Max()}
	if len(msgs) > 0 {
		p.From, p.To = (page-1)*inboxPage+1, (page-1)*inboxPage+len(msgs)
	}
	if _, p.Newest, err = box.Newer(""); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if n := r.URL.Query().Get("emptied"); n != "" {
		if k, err := strconv.Atoi(n); err == nil {
			v.Flash = append(v.Flash, flash{Kind: "ok", Text: v.T("inbox.emptied", k)})
		}
	}
	v.Data = p
	s.render(w, http.StatusOK, "inbox", v)
}

// inboxStatus is what an open Inbox page polls (inbox.js): how many
// messages arrived after the newest it shows, said in the page's words.
func (s *Server) inboxStatus(w http.ResponseWriter, r *http.Request) {
	box, ok := s.inbox(w, r)
	if !ok {
		return
	}
	v := s.newView(r, "inbox", nil)
	n, newest, err := box.Newer(r.URL.Query().Get("since"))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	st := struct {
		New     int    `json:"new"`
		Newest  string `json:"newest"`
		Arrived string `json:"arrived,omitempty"` // said once the list shows them
		Show    string `json:"show,omitempty"`    // the link to them, when it cannot
	}{New: n, Newest: newest}
	if n > 0 {
		st.Arrived, st.Show = v.T("inbox.live.arrived", n), v.T("inbox.live.show", n)
	}
	writeJSON(w, http.StatusOK, st)
}

// inboxGet is the message the path names, or a not-found page. A message
// whose file cannot be read is logged; the message page (page) says so,
// and the rest of its addresses are not found, there being no message
// to take a body, file or source from.
func (s *Server) inboxGet(w http.ResponseWriter, r *http.Request, page bool) (*mailbox.Message, bool) {
	box, ok := s.inbox(w, r)
	if !ok {
		return nil, false
	}
	m, err := box.Get(r.PathValue("id"))
	var damaged *mailbox.DamagedError
	switch {
	case errors.Is(err, mailbox.ErrNotFound):
		s.renderStatus(w, r, http.StatusNotFound, "notfound", nil)
		return nil, false
	case errors.As(err, &damaged):
		s.logf("console: %v", damaged)
		if !page {
			s.renderStatus(w, r, http.StatusNotFound, "notfound", nil)
			return nil, false
		}
		v := s.newView(r, "inbox", &inboxMessagePage{Damaged: damaged})
		v.Title = v.T("inbox.damaged.title")
		s.render(w, http.StatusOK, "inbox_message", v)
		return nil, false
	case err != nil:
		s.fail(w, r, s.newView(r, "inbox", nil), err)
		return nil, false
	}
	return m, true
}

// inboxMessagePage is a message's page: the message, or why its file
// could not be read.
type inboxMessagePage struct {
	M       *mailbox.Message
	Source  *message.Source // M's raw source, readable on the page; the .eml is M.Raw exactly
	Damaged *mailbox.DamagedError
}

func (s *Server) inboxMessage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.inboxGet(w, r, true)
	if !ok {
		return
	}
	if m.Decoded != nil && m.Decoded.HTML != "" {
		allowMailFrame(w)
	}
	v := s.newView(r, "inbox", &inboxMessagePage{M: m, Source: message.ReadableSource(m.Raw)})
	v.Title = v.T("inbox.message.title")
	if m.Decoded != nil && m.Decoded.Subject != "" {
		v.Title = m.Decoded.Subject
	}
	s.render(w, http.StatusOK, "inbox_message", v)
}

// inboxEML downloads the message exactly as the stand-in received it.
func (s *Server) inboxEML(w http.ResponseWriter, r *http.Request) {
	m, ok := s.inboxGet(w, r, false)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="message-%s.eml"`, m.ID))
	_, _ = w.Write(m.Raw)
}

// inboxHTML serves the HTML body for the message page's frame: the
// sender's markup, in a frame that may run nothing and reach nothing (the
// same rule as the wizard's preview).
func (s *Server) inboxHTML(w http.ResponseWriter, r *http.Request) {
	m, ok := s.inboxGet(w, r, false)
	if !ok {
		return
	}
	if m.Decoded == nil || m.Decoded.HTML == "" {
		s.renderStatus(w, r, http.StatusNotFound, "notfound", nil)
		return
	}
	writeMailHTML(w, m.Decoded.HTML)
}

// inboxAttachment downloads attachment n (1-based) under its own name;
// always as a download of opaque bytes, never shown in the console.
func (s *Server) inboxAttachment(w http.ResponseWriter, r *http.Request) {
	m, ok := s.inboxGet(w, r, false)
	if !ok {
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || m.Decoded == nil || n < 1 || n > len(m.Decoded.Attachments) {
		s.renderStatus(w, r, http.StatusNotFound, "notfound", nil)
		return
	}
	a := m.Decoded.Attachments[n-1]
	name := strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f || c == '/' || c == '\\' {
			return '_'
		}
		return c
	}, a.Filename)
	if name == "" {
		name = fmt.Sprintf("attachment-%d", n)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	_, _ = w.Write(a.Data)
}

// inboxEmpty removes every message (the page asked first).
func (s *Server) inboxEmpty(w http.ResponseWriter, r *http.Request) {
	box, ok := s.inbox(w, r)
	if !ok {
		return
	}
	n, err := box.Empty()
	if err != nil {
		s.fail(w, r, s.newView(r, "inbox", nil), err)
		return
	}
	http.Redirect(w, r, "/inbox?emptied="+strconv.Itoa(n), http.StatusSeeOther)
}
