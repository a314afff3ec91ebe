package redact

import (
	"strings"
	"testing"
)

func TestStringMasksTokenShapes(t *testing.T) {
	secrets := []string{
		"ya29.a0AfH6SMBx-secretpart",
		"1//0gLongRefreshToken-abcdefgh",
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
		"dXNlcj1hQGV4YW1wbGUuY29tAWF1dGg9QmVhcmVy",
		"s3cr3t-refresh",
	}
	in := "refresh failed: Authorization: Bearer " + secrets[0] + " rt=" + secrets[1] + " id " + secrets[2] +
		" AUTH XOAUTH2 " + secrets[3] + ` {"refresh_token":"` + secrets[4] + `"}`
	out := String(in)
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("%q survived: %s", s, out)
		}
	}
	if !strings.Contains(out, "refresh failed") || !strings.Contains(out, `"refresh_token":"`+Mask) {
		t.Errorf("the words around secrets should stay: %s", out)
	}
}

func TestStringKeepsProseAfterAFieldName(t *testing.T) {
	in := "refusing to write an incomplete credential file: missing client_secret: Google's token endpoint requires the client secret"
	if got := String(in); got != in {
		t.Fatalf("masked prose:\n%s\n%s", in, got)
	}
	if got := String("password: Zx9-very-long-secret-value"); strings.Contains(got, "Zx9") {
		t.Fatalf("a long value after 'password:' survived: %s", got)
	}
}

func TestStringLeavesPlainSentences(t *testing.T) {
	in := "sign-in needed for account sales (AADSTS700082: the refresh token expired after 90 days idle); run 'bluemoon login sales'"
	if got := String(in); got != in {
		t.Fatalf("changed a sentence with no secret:\n%s\n%s", in, got)
	}
}

func TestSecretKey(t *testing.T) {
	for k, want := range map[string]bool{"refresh_token": true, "ClientSecret": true, "account": false, "message": false} {
		if SecretKey(k) != want {
			t.Errorf("SecretKey(%q) = %v", k, !want)
		}
	}
}

func TestCommandMasksWebhookSecrets(t *testing.T) {
	secrets := []string{"T0001/B0002/XyZsecretWebhookPart", "AIzaKeyValue123", "tokValue456", "pw789"}
	in := `curl -fsS -d @- https://hooks.example.com/services/` + secrets[0] +
		` 'https://chat.example.com/v1/spaces/AAA/messages?key=` + secrets[1] + `&token=` + secrets[2] + `'` +
		` https://user:` + secrets[3] + `@relay.example.org`
	out := Command(in)
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("%q survived: %s", s, out)
		}
	}
	for _, keep := range []string{"curl -fsS -d @- ", "https://hooks.example.com/", "https://chat.example.com/", "relay.example.org"} {
		if !strings.Contains(out, keep) {
			t.Errorf("%q should stay: %s", keep, out)
		}
	}
	if got := Command("/usr/local/bin/page-oncall --team mail"); got != "/usr/local/bin/page-oncall --team mail" {
		t.Errorf("a command without secrets changed: %s", got)
	}
}
