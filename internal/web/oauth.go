package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
)

// The guide's 詳細設定 (OAuth advanced settings): the credential file the
// account uses (import one, never see its secret), 確認メッセージの表示,
// sign in and sign out — and, revealed only by Ctrl + Shift + Alt + 9, the
// administrator's area that makes credential files (credfile.go).

func (s *Server) oauthRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /oauth", s.oauthPage)
	mux.HandleFunc("GET /accounts/{name}/oauth", s.oauthPage)
	mux.HandleFunc("POST /accounts/{name}/oauth/options", s.oauthOptions)
	mux.HandleFunc("POST /oauth/import", s.importUpload)
	mux.HandleFunc("POST /oauth/import/confirm", s.importConfirm)
}

// oauthPage is what the 詳細設定 template sees.
type oauthPage struct {
	Account     *core.AccountInfo       // nil before the account exists
	Provider    string                  // google, microsoft, generic
	Credential  *credstore.Credential   // the account's, if any
	Imported    []*credstore.Credential // every imported file of this provider
	Draft, Back string                  // the account form to return to
	Inspect     *inspectStep            // the second step of an import
	Problem     *problem
	Tenants     []string
}

// inspectStep shows a file's signer before the user decides to import it.
type inspectStep struct {
	ID   string
	Info *core.CredentialFileInfo
	Name string
	// What was typed and ticked, kept when the step is refused.
	Trust                 string
	Trusted, AcceptCustom bool
}

// typedIn keeps what the confirmation's form held in step.
func (step *inspectStep) typedIn(r *http.Request) *inspectStep {
	step.Trust = strings.TrimSpace(r.PostFormValue("trust"))
	step.Trusted, step.AcceptCustom = r.PostFormValue("trusted") != "", r.PostFormValue("accept_custom") != ""
	return step
}

func (s *Server) oauthPage(w http.ResponseWriter, r *http.Request) {
	s.renderOAuth(w, r, http.StatusOK, nil, nil)
}

// renderOAuth draws 詳細設定 for the account in the path, or for the
// provider and draft in the query.
func (s *Server) renderOAuth(w http.ResponseWriter, r *http.Request, status int, step *inspectStep, err error) {
	v := s.newView(r, "accounts", nil)
	p := &oauthPage{Provider: formOrQuery(r, "provider"), Draft: formOrQuery(r, "draft"), Back: localPath(formOrQuery(r, "back")), Inspect: step,
		Tenants: []string{"organizations", "common", "consumers"}}
	if name := accountParam(r); name != "" {
		info, aerr := s.svc.Account(r.Context(), name)
		if aerr != nil {
			s.fail(w, r, v, aerr)
			return
		}
		p.Account = info
		if info.Credentials != "" {
			if c, cerr := s.svc.Credential(r.Context(), info.Credentials); cerr == nil {
				p.Credential = c
				p.Provider = string(c.Provider)
			}
		}
		if p.Provider == "" && info.Kind != core.AuthPassword && info.Kind != core.AuthNone {
			p.Provider = string(info.Kind)
		}
	}
	switch p.Provider {
	case "google", "microsoft", "generic":
	default:
		p.Provider = "google"
	}
	all, lerr := s.svc.Credentials(r.Context())
	if lerr != nil {
		s.fail(w, r, v, lerr)
		return
	}
	for _, c := range all {
		if string(c.Provider) == p.Provider {
			p.Imported = append(p.Imported, c)
		}
	}
	if err != nil {
		pr := v.explain(err)
		p.Problem = v.flagField(&pr)
	}
	v.Flash = s.flashFromQuery(r, v)
	v.Title = v.T("oauth.title")
	v.Data = p
	s.render(w, status, "oauth", v)
}

// accountParam is the account a 詳細設定 request is about: the path's, or
// the form's on the import steps.
func accountParam(r *http.Request) string {
	if n := r.PathValue("name"); n != "" {
		return n
	}
	return formOrQuery(r, "account")
}

func formOrQuery(r *http.Request, key string) string {
	if r.Method == http.MethodPost {
		if v := r.FormValue(key); v != "" {
			return v
		}
	}
	return r.URL.Query().Get(key)
}

// localPath keeps a "back" address on this console (a path, never a URL
// elsewhere).
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.Contains(p, "\\") {
		return ""
	}
	return p
}

// oauthOptions saves 確認メッセージの表示.
func (s *Server) oauthOptions(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	confirm := r.PostFormValue("confirm_reauth") != ""
	if _, err := s.svc.EditAccount(r.Context(), name, core.AccountInput{ConfirmReauth: &confirm}); err != nil {
		s.renderOAuth(w, r, http.StatusUnprocessableEntity, nil, err)
		return
	}
	http.Redirect(w, r, "/accounts/"+url.PathEscape(name)+"/oauth?saved=1", http.StatusSeeOther)
}

// importUpload is the first step of an import: the file is read and
// checked, and its signer shown; nothing is imported yet.
func (s *Server) importUpload(w http.ResponseWriter, r *http.Request) {
	file, hdr, err := r.FormFile("file")
	if err != nil {
		s.renderOAuth(w, r, http.StatusUnprocessableEntity, nil, &core.FieldError{Field: "file", Code: core.CodeRequired, Message: "choose the credential file to import"})
		return
	}
	defer file.Close()
	// A credential file is at most 1 MiB; reading one byte more tells a
	// larger file from one exactly at the limit.
	data, err := io.ReadAll(io.LimitReader(file, 1<<20+1))
	if err != nil {
		s.renderOAuth(w, r, http.StatusUnprocessableEntity, nil, err)
		return
	}
	source := filepath.Base(hdr.Filename)
	info, err := s.svc.InspectCredentialFile(r.Context(), source, data, r.FormValue("passphrase"))
	if err != nil {
		s.renderOAuth(w, r, http.StatusUnprocessableEntity, nil, err)
		return
	}
	name := strings.TrimSuffix(source, filepath.Ext(source))
	if credstore.ValidateName(name) != nil {
		name = string(info.Provider)
	}
	id := s.stash.put(sessionOf(r), &stashEntry{file: data, source: source, form: url.Values{"passphrase": {r.FormValue("passphrase")}}})
	s.renderOAuth(w, r, http.StatusOK, &inspectStep{ID: id, Info: info, Name: name}, nil)
}

// importConfirm imports the file shown in the first step, with the user's
// decisions: the name, the signer they trust, custom endpoints accepted.
func (s *Server) importConfirm(w http.ResponseWriter, r *http.Request) {
	e := s.stash.get(sessionOf(r), r.PostFormValue("upload"))
	if e == nil || e.file == nil {
		s.renderOAuth(w, r, http.StatusUnprocessableEntity, nil, &core.FieldError{Field: "file", Code: "expired", Message: "the uploaded file has expired: choose it again"})
		return
	}
	if r.PostFormValue("trusted") == "" {
		info, _ := s.svc.InspectCredentialFile(r.Context(), e.source, e.file, e.form.Get("passphrase"))
		s.renderOAuth(w, r, http.StatusUnprocessableEntity, (&inspectStep{ID: r.PostFormValue("upload"), Info: info, Name: r.PostFormValue("name")}).typedIn(r),
			&core.FieldError{Field: "trusted", Code: core.CodeRequired, Message: "confirm that you trust the signer"})
		return
	}
	in := core.ImportInput{Source: e.source, Data: e.file, Passphrase: e.form.Get("passphrase"), Name: strings.TrimSpace(r.PostFormValue("name")),
		Trust: strings.TrimSpace(r.PostFormValue("trust")), AcceptCustomEndpoints: r.PostFormValue("accept_custom") != "",
		Replace: r.PostFormValue("replace") != ""}
	// For an account, the import and the account's change are one: a
	// file the account cannot use is refused with nothing imported.
	account := ""
	if localPath(r.PostFormValue("back")) == "" {
		account = r.PostFormValue("account")
	}
	var res *core.ImportResult
	var err error
	if account != "" {
		res, _, err = s.svc.ImportCredentialFileFor(r.Context(), account, in)
	} else {
		res, err = s.svc.ImportCredentialFile(r.Context(), in)
	}
	if err != nil {
		info, _ := s.svc.InspectCredentialFile(r.Context(), e.source, e.file, e.form.Get("passphrase"))
		var fe *core.FieldError
		var pm *core.ProviderMismatchError
		var inUse *core.CredentialsInUseError
		status := http.StatusUnprocessableEntity
		// A file the account cannot use is chosen again, not confirmed
		// again; one other accounts' use of the name refuses is confirmed
		// again, under another name.
		if info == nil || (errors.As(err, &fe) && fe.Field == "passphrase") || errors.As(err, &pm) && !errors.As(err, &inUse) {
			s.renderOAuth(w, r, status, nil, err)
			return
		}
		s.renderOAuth(w, r, status, (&inspectStep{ID: r.PostFormValue("upload"), Info: info, Name: in.Name}).typedIn(r), err)
		return
	}
	s.stash.drop(r.PostFormValue("upload"))
	q := url.Values{"imported": {res.Name}}
	for _, wn := range res.Warnings {
		q.Add("warn", wn.Code)
	}
	// Back to the account form that sent the user here, with the file chosen.
	if back := localPath(r.PostFormValue("back")); back != "" {
		q.Set("draft", r.PostFormValue("draft"))
		q.Set("credentials", res.Name)
		http.Redirect(w, r, back+"?"+q.Encode(), http.StatusSeeOther)
		return
	}
	if account != "" {
		http.Redirect(w, r, "/accounts/"+url.PathEscape(account)+"/oauth?"+q.Encode(), http.StatusSeeOther)
		return
	}
	q.Set("provider", string(res.Provider))
	http.Redirect(w, r, "/oauth?"+q.Encode(), http.StatusSeeOther)
}
