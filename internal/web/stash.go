package web

import (
	"net/url"
	"sync"
	"time"
)

// A stash keeps what a multi-step form needs between its steps on the
// server, never in the page: an uploaded credential file waiting for the
// user's trust decision, an account form left to visit 詳細設定. Entries
// belong to one session and expire.

type stashEntry struct {
	owner   *session
	expires time.Time
	form    url.Values // a draft account form (never a password)
	file    []byte     // an uploaded credential file
	source  string     // its file name
}

type stash struct {
	mu      sync.Mutex
	entries map[string]*stashEntry
}

const stashTTL = 30 * time.Minute

func (st *stash) put(owner *session, e *stashEntry) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.entries == nil {
		st.entries = map[string]*stashEntry{}
	}
	now := time.Now()
	for k, old := range st.entries {
		if now.After(old.expires) {
			delete(st.entries, k)
		}
	}
	id := randomToken(12)
	e.owner, e.expires = owner, now.Add(stashTTL)
	st.entries[id] = e
	return id
}

// get returns the entry if it exists, has not expired and belongs to owner.
func (st *stash) get(owner *session, id string) *stashEntry {
	st.mu.Lock()
	defer st.mu.Unlock()
	e := st.entries[id]
	if e == nil || e.owner != owner || time.Now().After(e.expires) {
		return nil
	}
	return e
}

func (st *stash) drop(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.entries, id)
}
