package oauthsrv

import (
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// tenantID is the directory the Microsoft stand-in signs everyone into
// (the ID tokens' tid).
const tenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// handleDiscovery serves the OpenID configuration document (OpenID
// Connect Discovery) as each provider publishes it: Google's at
// /.well-known/openid-configuration with its issuer the server itself;
// Microsoft's per tenant at /{tenant}/v2.0/.well-known/..., whose issuer
// names the tenant by its ID (a verified domain resolves to it) and, for
// common, organizations and consumers, the literal "{tenantid}".
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	var doc map[string]any
	if s.opts.Flavor == provider.Google {
		doc = map[string]any{
			"issuer":                        s.url,
			"authorization_endpoint":        s.url + "/o/oauth2/v2/auth",
			"token_endpoint":                s.url + "/token",
			"userinfo_endpoint":             s.url + "/v1/userinfo",
			"revocation_endpoint":           s.url + "/revoke",
			"device_authorization_endpoint": s.url + "/device/code",
			"scopes_supported":              []string{"openid", "email", "profile"},
		}
	} else {
		tenant := r.PathValue("tenant")
		if err := provider.ValidateTenant(tenant); err != nil {
			s.writeError(w, oauthError{400, "invalid_request", 90002, "Tenant '" + tenant + "' not found."})
			return
		}
		id := tenantID
		switch provider.NormalizeTenant(tenant) {
		case "common", "organizations", "consumers":
			id = "{tenantid}"
		default:
			if guidRE.MatchString(tenant) {
				id = tenant
			}
		}
		base := s.url + "/" + tenant + "/oauth2/v2.0/"
		doc = map[string]any{
			"issuer":                        s.url + "/" + id + "/v2.0",
			"authorization_endpoint":        base + "authorize",
			"token_endpoint":                base + "token",
			"device_authorization_endpoint": base + "devicecode",
			"scopes_supported":              []string{"openid", "profile", "email", "offline_access"},
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}
