package web

import (
	"testing"
	"time"
)

func TestHostAllowedOnlyLoopbackAndOurPort(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:8080":        true,
		"localhost:8080":        true,
		"LOCALHOST:8080":        true,
		"127.0.0.1:8081":        false, // another port: another program
		"evil.example:8080":     false, // DNS rebinding: a foreign name pointed at 127.0.0.1
		"127.0.0.1.nip.io:8080": false,
		"127.0.0.1":             false,
		"[::1]:8080":            false, // we listen on IPv4 only
		"":                      false,
	} {
		if got := hostAllowed(host, "8080"); got != want {
			t.Errorf("hostAllowed(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestOriginAllowedOnlyOurOwnPages(t *testing.T) {
	for origin, want := range map[string]bool{
		"http://127.0.0.1:8080":  true,
		"http://localhost:8080":  true,
		"":                       false,
		"null":                   false,
		"http://127.0.0.1:8081":  false,
		"https://127.0.0.1:8080": false,
		"http://evil.example":    false,
	} {
		if got := originAllowed(origin, "8080"); got != want {
			t.Errorf("originAllowed(%q) = %v, want %v", origin, got, want)
		}
	}
}

func TestLoginTokenWorksOnceAndExpires(t *testing.T) {
	s := newSessions()
	tok := s.newLoginToken()
	id, ok := s.redeem(tok)
	if !ok || id == "" || s.get(id) == nil {
		t.Fatalf("a fresh token must log in: ok=%v id=%q", ok, id)
	}
	if _, ok := s.redeem(tok); ok {
		t.Fatal("a login token must work once only")
	}
	if _, ok := s.redeem("guessed"); ok {
		t.Fatal("an unknown token must not log in")
	}
	old := s.newLoginToken()
	s.mu.Lock()
	s.oneTime[old] = time.Now().Add(-time.Second)
	s.mu.Unlock()
	if _, ok := s.redeem(old); ok {
		t.Fatal("an expired token must not log in")
	}
}
