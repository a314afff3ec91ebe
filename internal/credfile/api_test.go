package credfile

import (
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// The mail API's base URL travels in the file, signed like the other
// endpoints: a national cloud's Graph comes out as sealed, and is listed
// among the endpoints import must show; a file without one gets the
// provider's default; a non-https value is refused at sealing.
func TestAPIEndpointInTheFile(t *testing.T) {
	cfg, err := provider.FillDefaults(provider.Config{Provider: provider.Microsoft, ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if base, scope := cfg.API(); base != provider.GraphEndpoint || scope != provider.GraphScope || len(cfg.CustomEndpoints()) != 0 {
		t.Fatalf("defaults: %s %s, custom %v", base, scope, cfg.CustomEndpoints())
	}
	cfg.APIEndpoint = "https://graph.microsoft.us"
	cfg.APIScope = "https://graph.microsoft.us/Mail.Send offline_access"
	f, err := Open(seal(t, cfg, testKey(t), ""), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	base, scope := f.Config.API()
	if base != "https://graph.microsoft.us" || scope != cfg.APIScope {
		t.Fatalf("opened: %s %s", base, scope)
	}
	if c := f.Config.CustomEndpoints(); len(c) != 1 || !strings.Contains(c[0], "api_endpoint = https://graph.microsoft.us") {
		t.Fatalf("custom endpoints %v", c)
	}
	if !strings.Contains(f.Config.WithAPIScope().AuthScope, "https://graph.microsoft.us/Mail.Send") {
		t.Fatalf("sign-in scope %q lacks the API's", f.Config.WithAPIScope().AuthScope)
	}

	old := googleConfig(t)
	old.APIEndpoint, old.APIScope = "", "" // a file made before the fields existed
	if base, scope := old.API(); base != provider.GmailAPIEndpoint || scope != "" {
		t.Fatalf("google without the fields: %q %q (the sign-in's token serves the API)", base, scope)
	}

	cfg.APIEndpoint = "ftp://graph.example"
	if _, err := Seal(cfg, testKey(t), SealOptions{}); err == nil || !strings.Contains(err.Error(), "api_endpoint") {
		t.Fatalf("an ftp api_endpoint was sealed: %v", err)
	}
}
