package web

import (
	"errors"
	"net/http"
	"net/url"
	"sort"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
)

func (s *Server) accountRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /accounts", s.accountList)
	mux.HandleFunc("GET /accounts/new", s.accountNew)
	mux.HandleFunc("POST /accounts/new", s.accountSave)
	mux.HandleFunc("POST /accounts/draft", s.accountDraft)
	mux.HandleFunc("GET /accounts/{name}", s.accountShow)
	mux.HandleFunc("GET /accounts/{name}/edit", s.accountEdit)
	mux.HandleFunc("POST /accounts/{name}/edit", s.accountSave)
	mux.HandleFunc("POST /accounts/{name}/remove", s.accountRemove)
}

func (s *Server) accountList(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "accounts", nil)
	list, err := s.svc.Accounts(r.Context())
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	v.Title = v.T("accounts.title")
	v.Data = list
	v.Flash = s.flashFromQuery(r, v)
	s.render(w, http.StatusOK, "accounts", v)
}

func (s *Server) accountShow(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "accounts", nil)
	// The account with its daily test send, read once.
	d, err := s.svc.AccountDetail(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	v.Title = d.Name
	v.Data = d
	v.Flash = append(s.flashFromQuery(r, v), scheduleFlash(r, v)...)
	s.render(w, http.StatusOK, "account", v)
}

// formPage is what the account form template sees.
type formPage struct {
	Form        accountForm
	Choices     []string
	Presets     map[string]map[string]string
	Credentials []*credstore.Credential // imported, for the OAuth choice
	Problem     *problem
}

func (s *Server) accountNew(w http.ResponseWriter, r *http.Request) {
	f := accountForm{IsNew: true, AuthChoice: "google", Mechanism: "plain", ConfirmReauth: true}
	if d := s.draft(r); d != nil {
		f = formFromValues(d)
		f.IsNew = true
	}
	if p := presetFor(f.AuthChoice); p != nil && f.SMTPHost == "" {
		f.SMTPHost, f.SMTPPort, f.Security = p["smtp_host"], p["smtp_port"], p["security"]
	}
	s.renderForm(w, r, http.StatusOK, f, nil)
}

func (s *Server) accountEdit(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "accounts", nil)
	info, err := s.svc.Account(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	f := formFromAccount(info)
	if d := s.draft(r); d != nil {
		f = formFromValues(d)
		f.Name, f.PasswordSet = info.Name, info.PasswordSet
	}
	s.renderForm(w, r, http.StatusOK, f, nil)
}

// draft is the account form left for 詳細設定 (?draft=ID), with the
// credentials just imported there chosen (?credentials=NAME).
func (s *Server) draft(r *http.Request) url.Values {
	e := s.stash.get(sessionOf(r), r.URL.Query().Get("draft"))
	if e == nil || e.form == nil {
		return nil
	}
	d := url.Values{}
	for k, vs := range e.form {
		d[k] = append([]string(nil), vs...)
	}
	if c := r.URL.Query().Get("credentials"); c != "" {
		d.Set("credentials", c)
	}
	return d
}

func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, status int, f accountForm, err error) {
	v := s.newView(r, "accounts", nil)
	creds, cerr := s.svc.Credentials(r.Context())
	if cerr != nil {
		s.fail(w, r, v, cerr)
		return
	}
	sort.Slice(creds, func(i, j int) bool { return creds[i].ImportedAt.After(creds[j].ImportedAt) })
	page := &formPage{Form: f, Choices: authChoices, Credentials: creds, Presets: map[string]map[string]string{}}
	for _, c := range authChoices {
		if p := presetFor(c); p != nil {
			page.Presets[c] = p
		}
	}
	if err != nil {
		p := v.explain(err)
		page.Problem = v.flagField(&p)
	}
	if f.IsNew {
		v.Title = v.T("account.new.title")
	} else {
		v.Title = v.T("account.edit.title", f.Name)
	}
	v.Data = page
	s.render(w, status, "account_form", v)
}

// accountSave adds (POST /accounts/new) or changes an account.
func (s *Server) accountSave(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := formFromValues(r.PostForm)
	name := r.PathValue("name")
	f.IsNew = name == ""
	if !f.IsNew {
		f.Name = name
	}
	in, ferr := f.input(r.PostForm.Get("password"))
	if ferr != nil {
		s.renderForm(w, r, http.StatusUnprocessableEntity, f, ferr)
		return
	}
	var ch *core.AccountChange
	var err error
	if f.IsNew {
		ch, err = s.svc.AddAccount(r.Context(), f.Name, in)
	} else {
		ch, err = s.svc.EditAccount(r.Context(), f.Name, in)
	}
	if err != nil {
		if !f.IsNew {
			if info, e := s.svc.Account(r.Context(), f.Name); e == nil {
				f.PasswordSet = info.PasswordSet
			}
		}
		s.renderForm(w, r, http.StatusUnprocessableEntity, f, err)
		return
	}
	q := url.Values{"saved": {"1"}}
	for _, wn := range ch.Warnings {
		q.Add("warn", wn.Code)
	}
	http.Redirect(w, r, "/accounts/"+url.PathEscape(f.Name)+"?"+q.Encode(), http.StatusSeeOther)
}

// accountDraft keeps the account form while the user visits 詳細設定 to
// import (or, as an administrator, make) the credential file it needs.
func (s *Server) accountDraft(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := formFromValues(r.PostForm)
	id := s.stash.put(sessionOf(r), &stashEntry{form: f.values()})
	back := "/accounts/new"
	if n := r.PostForm.Get("editing"); n != "" {
		back = "/accounts/" + url.PathEscape(n) + "/edit"
	}
	q := url.Values{"provider": {f.AuthChoice}, "draft": {id}, "back": {back}}
	http.Redirect(w, r, "/oauth?"+q.Encode(), http.StatusSeeOther)
}

func (s *Server) accountRemove(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.svc.RemoveAccount(r.Context(), name); err != nil {
		v := s.newView(r, "accounts", nil)
		s.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/accounts?removed="+url.QueryEscape(name), http.StatusSeeOther)
}

// flashFromQuery turns the outcome a redirect carried (?saved=1,
// ?warn=code, ?removed=name) into lines at the top of the page.
func (s *Server) flashFromQuery(r *http.Request, v *view) []flash {
	q := r.URL.Query()
	var out []flash
	if q.Get("saved") != "" {
		out = append(out, flash{Kind: "ok", Text: v.T("flash.saved")})
	}
	if n := q.Get("removed"); n != "" {
		out = append(out, flash{Kind: "ok", Text: v.T("flash.removed", n)})
	}
	if n := q.Get("imported"); n != "" {
		out = append(out, flash{Kind: "ok", Text: v.T("flash.imported", n)})
	}
	if q.Get("signedout") != "" {
		out = append(out, flash{Kind: "ok", Text: v.T("flash.signedout")})
	}
	for _, code := range q["warn"] {
		if k := "warn." + code; v.Has(k) {
			out = append(out, flash{Kind: "warn", Text: v.T(k)})
		}
	}
	return out
}

// fail draws the error page for a failed call: not found is a 404, bad
// input a 422, something still in use a 409, anything else a 500 with the
// details folded.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	p := v.explain(err)
	code := http.StatusInternalServerError
	var fe *core.FieldError
	var inUse *core.InUseError
	switch {
	case errors.Is(err, core.ErrNotFound):
		code = http.StatusNotFound
	case errors.As(err, &fe):
		code = http.StatusUnprocessableEntity
	case errors.As(err, &inUse):
		code = http.StatusConflict
	}
	if code == http.StatusInternalServerError {
		s.logf("console: %s %s: %v", r.Method, r.URL.Path, err)
	}
	v.Title = v.T("error.title")
	v.Data = p
	s.render(w, code, "error", v)
}
