package web

import "sync"

// A form that starts a delivery starts one, however often it is sent: a
// double click posts it again before the first answer came, and a page
// kept in a tab can be sent again later. Each such form is known by a key
// (a draft's ID; the one-time key of a saved delivery's confirmation);
// the starts of one key take turns, and once one started a delivery the
// others open it instead of starting another. An import into the
// suppression list takes turns the same way (its result says the rest).

// starts are the delivery starts asked for, by key.
type starts struct {
	mu sync.Mutex
	m  map[string]*start
}

// start is the starting of a delivery by one form: one at a time, and the
// delivery it became (0: none yet). A draft saved or scheduled, or a new
// schedule, keeps what was done, for the same form sent again (savedKey
// says which form of a draft, of which state of the draft).
type start struct {
	mu       sync.Mutex
	delivery int64
	savedKey string
	saved    *scheduleDone
}

// of is the start of key.
func (s *starts) of(key string) *start {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*start{}
	}
	st := s.m[key]
	if st == nil {
		st = &start{}
		s.m[key] = st
	}
	return st
}
