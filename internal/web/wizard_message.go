package web

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/merge"
)

// ---- Step 2: the message -------------------------------------------

// messagePage is the message step's own data.
type messagePage struct {
	Accounts    []*core.AccountInfo
	Account     *core.AccountInfo // the one chosen
	Signatures  map[string]string // every account's signature, for the script that swaps it
	SignatureOf string            // the chosen account's signature, as shown
	Saved       string            // a note after saving the signature
}

func (s *Server) messageStep(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.draftOf(w, r)
	if !ok {
		return
	}
	s.renderMessage(w, r, dr, http.StatusOK, nil, "")
}

func (s *Server) renderMessage(w http.ResponseWriter, r *http.Request, dr *draft, status int, err error, note string) {
	v, p := s.wizardView(r, dr, "message")
	if !p.Open["message"] {
		http.Redirect(w, r, stepURL(dr, "list"), http.StatusSeeOther)
		return
	}
	accts, aerr := s.svc.Accounts(r.Context())
	if aerr != nil {
		s.fail(w, r, v, aerr)
		return
	}
	mp := &messagePage{Accounts: accts, Signatures: map[string]string{}, Saved: note}
	if dr.Account == "" && len(accts) > 0 {
		dr.Account = accts[0].Name
	}
	for _, a := range accts {
		mp.Signatures[a.Name] = a.Signature
		if a.Name == dr.Account {
			mp.Account, mp.SignatureOf = a, a.Signature
		}
	}
	if err != nil {
		pr := s.messageProblem(v, err)
		p.Problem = v.flagField(&pr)
		if r.Method == http.MethodPost && r.FormValue("action") == "signature" {
			mp.SignatureOf = r.FormValue("signature") // refused: as typed, to be fixed
		}
	}
	p.Data = mp
	s.render(w, status, "wizard_message", v)
}

// messageProblem words a refusal of the message step, pointing at the
// part of the form it is about.
func (s *Server) messageProblem(v *view, err error) problem {
	var fe *core.FieldError
	if errors.As(err, &fe) && fe.Code == core.CodeTemplate {
		msg := v.T("message.error.template." + fieldOrMessage(fe.Field))
		if t := v.templateText(err); t != "" {
			msg = t
		}
		return problem{Field: fe.Field, Message: msg, Fix: v.T("message.fix.template"), Detail: fe.Message}
	}
	var big *errTooLarge
	var bad *errBadName
	if errors.As(err, &big) || errors.As(err, &bad) {
		return s.uploadProblem(v, err)
	}
	p := v.explain(err)
	if errors.As(err, &fe) {
		switch fe.Field {
		case "subject", "text", "account", "charset":
			if k := "message.error." + fe.Field + "." + fe.Code; v.Has(k) {
				p.Message = v.T(k)
			}
		}
	}
	return p
}

// templateText words a mistake in the template — which part, which line,
// what — in the user's language ("" when err holds no *merge.TemplateError).
func (v *view) templateText(err error) string {
	var te *merge.TemplateError
	if !errors.As(err, &te) {
		return ""
	}
	part := v.T("message.part." + partKey(te.Part))
	where := part
	if te.Line > 0 {
		where = v.T("message.template.line", part, te.Line)
	}
	what := v.T("message.template.kind.syntax")
	switch k := "message.template.kind." + string(te.Kind); {
	case te.Kind == merge.KindUnknownField:
		what = v.T(k, te.Field)
	case te.Kind == merge.KindUnknownFunction:
		what = v.T(k, te.Detail)
	case te.Kind == merge.KindRender && te.Field != "":
		what = v.T(k+".field", te.Field)
	case v.Has(k):
		what = v.T(k)
	}
	return v.T("message.template.where", where, what)
}

// partKey is the catalogue's word for a merge.TemplateError's Part.
func partKey(part string) string {
	switch part {
	case "subject":
		return "subject"
	case "text body":
		return "text"
	case "HTML body":
		return "html"
	}
	return "message"
}

func fieldOrMessage(f string) string {
	switch f {
	case "subject", "text", "html", "attach_column":
		return f
	}
	return "message"
}

// messageUpdate keeps what the form holds, then does what its button
// says: add or remove files, keep the signature on the account, or go on
// to the preview once the template is right for the list.
func (s *Server) messageUpdate(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.draftOf(w, r)
	if !ok {
		return
	}
	dr.Account = r.FormValue("account")
	dr.Subject = r.FormValue("subject")
	dr.Text = strings.ReplaceAll(r.FormValue("text"), "\r\n", "\n")
	dr.HTML = strings.ReplaceAll(r.FormValue("html"), "\r\n", "\n")
	dr.Charset = r.FormValue("charset")
	dr.Signature = r.FormValue("use_signature") != ""
	dr.AttachColumn = r.FormValue("attach_column")
	var err error
	note := ""
	switch {
	case r.FormValue("remove") != "":
		dr.Attachments = s.drafts.drop(s.drafts.attachDir(dr.ID), dr.Attachments, r.FormValue("remove"))
	case r.FormValue("remove_row") != "":
		dr.RowFiles = s.drafts.drop(s.drafts.listDir(dr.ID), dr.RowFiles, r.FormValue("remove_row"))
	case r.FormValue("action") == "signature":
		sig := r.FormValue("signature")
		if _, err = s.svc.EditAccount(r.Context(), dr.Account, core.AccountInput{Signature: &sig}); err == nil {
			note = dr.Account
		}
	}
	if err == nil && r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["attach"] {
			var f draftFile
			if f, err = s.drafts.keep(dr, s.drafts.attachDir(dr.ID), fh, maxAttachBytes); err != nil {
				break
			}
			dr.Attachments = withFile(dr.Attachments, f)
		}
		for _, fh := range r.MultipartForm.File["rowfiles"] {
			if err != nil {
				break
			}
			if name, _ := cleanName(fh.Filename); name == dr.ListName {
				err = &errBadName{Name: name}
				break
			}
			var f draftFile
			if f, err = s.drafts.keep(dr, s.drafts.listDir(dr.ID), fh, maxAttachBytes); err != nil {
				break
			}
			dr.RowFiles = withFile(dr.RowFiles, f)
		}
	}
	if serr := s.drafts.save(dr); serr != nil && err == nil {
		err = serr
	}
	if err == nil && r.FormValue("action") == "next" {
		err = s.svc.CheckTemplate(r.Context(), dr.Account, s.listInput(dr), s.messageInput(dr))
		if err == nil {
			dr.MessageDone = true
			if err = s.drafts.save(dr); err == nil {
				http.Redirect(w, r, stepURL(dr, "preview"), http.StatusSeeOther)
				return
			}
		}
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
	}
	s.renderMessage(w, r, dr, status, err, note)
}

// messageInput is the draft's message as core takes it.
func (s *Server) messageInput(dr *draft) core.MessageInput {
	m := core.MessageInput{Subject: dr.Subject, Text: dr.Text, HTML: dr.HTML, Charset: dr.Charset, Signature: dr.Signature, AttachColumn: dr.AttachColumn}
	for _, a := range dr.Attachments {
		m.Attach = append(m.Attach, filepath.Join(s.drafts.attachDir(dr.ID), a.Name))
	}
	return m
}

// withFile adds f to files, replacing a file of the same name.
func withFile(files []draftFile, f draftFile) []draftFile {
	files = slices.DeleteFunc(files, func(x draftFile) bool { return x.Name == f.Name })
	return append(files, f)
}

// drop removes the file named name from dir and from files.
func (d *drafts) drop(dir string, files []draftFile, name string) []draftFile {
	return slices.DeleteFunc(files, func(x draftFile) bool {
		if x.Name != name {
			return false
		}
		os.Remove(filepath.Join(dir, x.Name))
		return true
	})
}
