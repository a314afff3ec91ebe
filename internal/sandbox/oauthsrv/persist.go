package oauthsrv

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The sandbox keeps its stand-ins between runs; a sign-in made yesterday
// must refresh today, so the grants and their live tokens are written to
// Options.StateFile. Codes, consent pages and device requests live for
// minutes and are not kept.

type savedState struct {
	Grants []savedGrant `json:"grants"`
}

type savedGrant struct {
	Email      string        `json:"email"`
	Scopes     []string      `json:"scopes"`
	Current    string        `json:"current,omitempty"`
	RefreshExp time.Time     `json:"refresh_exp,omitzero"`
	Revoked    string        `json:"revoked,omitempty"`
	Offline    bool          `json:"offline,omitempty"`
	OpenID     bool          `json:"openid,omitempty"`
	Retired    []string      `json:"retired,omitempty"` // rotated-out refresh tokens (a replay revokes the grant)
	Access     []savedAccess `json:"access,omitempty"`
}

type savedAccess struct {
	Token   string    `json:"token"`
	Scopes  []string  `json:"scopes"`
	Expires time.Time `json:"expires"`
}

// save writes the state file; s.mu must be held. A failed write is not
// the client's concern: the next change writes it again.
func (s *Server) save() {
	if s.opts.StateFile == "" {
		return
	}
	idx := map[*grant]int{}
	st := savedState{}
	for i, g := range s.grants {
		idx[g] = i
		st.Grants = append(st.Grants, savedGrant{Email: g.email, Scopes: g.scopes, Current: g.current, RefreshExp: g.refreshExp,
			Revoked: g.revoked, Offline: g.offline, OpenID: g.openid})
	}
	for tok, g := range s.refresh {
		if i, ok := idx[g]; ok && tok != g.current {
			st.Grants[i].Retired = append(st.Grants[i].Retired, tok)
		}
	}
	now := s.now()
	for tok, at := range s.access {
		if i, ok := idx[at.g]; ok && now.Before(at.expires) && at.g.revoked == "" {
			st.Grants[i].Access = append(st.Grants[i].Access, savedAccess{Token: tok, Scopes: at.scopes, Expires: at.expires})
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return
	}
	tmp := s.opts.StateFile + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return
	}
	_ = os.Rename(tmp, s.opts.StateFile)
}

// load reads the state file, if there is one.
func (s *Server) load() error {
	if s.opts.StateFile == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(s.opts.StateFile), 0o700); err != nil {
		return err
	}
	b, err := os.ReadFile(s.opts.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	for _, sg := range st.Grants {
		g := &grant{email: sg.Email, scopes: sg.Scopes, current: sg.Current, refreshExp: sg.RefreshExp,
			revoked: sg.Revoked, offline: sg.Offline, openid: sg.OpenID}
		s.grants = append(s.grants, g)
		if g.current != "" {
			s.refresh[g.current] = g
		}
		for _, t := range sg.Retired {
			s.refresh[t] = g
		}
		for _, a := range sg.Access {
			s.access[a.Token] = &accessToken{g: g, scopes: a.Scopes, expires: a.Expires}
		}
	}
	return nil
}
