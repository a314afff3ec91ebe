package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/core"
)

// The administrator's credential-file area (hidden on 詳細設定 until
// Ctrl + Shift + Alt + 9): 既定値の設定 fills the fields for a provider
// and tenant; 資格情報ファイルの作成 makes the signed file and downloads it.
// Both answer the page's script in JSON; the file itself comes back as a
// download.

func (s *Server) credfileRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /credentials/defaults", s.credDefaults)
	mux.HandleFunc("POST /credentials/create", s.credCreate)
}

// fieldProblem is one refused field, for the page's script.
type fieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (s *Server) credDefaults(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "accounts", nil)
	q := r.URL.Query()
	d, err := s.svc.CredentialDefaults(q.Get("provider"), q.Get("tenant"))
	if err != nil {
		s.jsonProblem(w, v, err)
		return
	}
	fields := map[string]string{"auth_endpoint": d.AuthEndpoint, "auth_scope": d.AuthScope,
		"token_endpoint": d.TokenEndpoint, "token_scope": d.TokenScope}
	if d.Provider == "microsoft" {
		fields["tenant"] = d.Tenant
	}
	writeJSON(w, http.StatusOK, map[string]any{"fields": fields, "message": v.T("credfile.defaults.done", v.T("auth."+string(d.Provider)))})
}

func (s *Server) jsonProblem(w http.ResponseWriter, v *view, err error) {
	p := v.explain(err)
	field := p.Field
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": []fieldProblem{{Field: field, Message: strings.TrimSpace(p.Message + " " + p.Fix)}}})
}

// requiredFields are the guide's 必須項目, checked here first so every
// missing one is named at once, before anything is made.
var requiredFields = []string{"client_id", "auth_endpoint", "auth_scope", "token_endpoint", "token_scope"}

func (s *Server) credCreate(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "accounts", nil)
	g := func(k string) string { return strings.TrimSpace(r.FormValue(k)) }
	provider := g("provider")
	var missing []fieldProblem
	req := append([]string(nil), requiredFields...)
	if provider == "google" {
		req = append(req, "client_secret")
	}
	for _, f := range req {
		if g(f) == "" {
			missing = append(missing, fieldProblem{Field: f, Message: v.T("err.required", v.T("field."+f))})
		}
	}
	if len(missing) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": missing})
		return
	}
	in := core.CreateInput{Provider: provider, ClientID: g("client_id"),
		AuthEndpoint: g("auth_endpoint"), AuthScope: g("auth_scope"), TokenEndpoint: g("token_endpoint"), TokenScope: g("token_scope"),
		Passphrase: r.FormValue("passphrase")}
	// Microsoft's desktop apps have no secret (the guide): the field is
	// not offered, and the tenant is Microsoft's alone.
	if provider == "microsoft" {
		in.Tenant = g("tenant")
	} else {
		in.ClientSecret = g("client_secret")
	}
	if in.Passphrase != r.FormValue("passphrase2") {
		s.jsonProblem(w, v, &core.FieldError{Field: "passphrase2", Code: "mismatch", Message: "the two passphrases differ"})
		return
	}
	data, made, err := s.svc.CreateCredentialFile(r.Context(), in)
	if err != nil {
		var fe *core.FieldError
		if errors.As(err, &fe) && fe.Field == "" {
			fe.Field = "client_id"
		}
		s.jsonProblem(w, v, err)
		return
	}
	msg := v.T("credfile.created", made.Signer)
	if len(made.CustomEndpoints) > 0 {
		msg += " " + v.T("credfile.custom", strings.Join(made.CustomEndpoints, ", "))
	}
	s.logf("console: made a %s credential file signed by %s", made.Provider, made.Signer)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, credFileName(made.Provider, made.Tenant)))
	w.Header().Set("X-Bluemoon-Message", url.PathEscape(msg))
	_, _ = w.Write(data)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// credFileName is the download's name: provider and tenant, in letters a
// file system and a Content-Disposition header both take.
func credFileName(provider any, tenant string) string {
	n := fmt.Sprint(provider)
	if tenant != "" {
		n += "-" + tenant
	}
	return unsafeName.ReplaceAllString(n, "_") + ".bmcred"
}
