package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// One console per home: the first `bluemoon console` holds a lock in the
// home and leaves its address (with a secret for asking it for login
// URLs) in a 0600 file; a second one finds it and opens the running
// console instead of serving the same home twice.

const instanceFile = "console.json"

type instance struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
	PID    int    `json:"pid"`
}

// Running is a console already serving a home.
type Running struct {
	inst instance
}

// BaseURL is the running console's address.
func (r *Running) BaseURL() string { return r.inst.URL }

// LoginURL asks the running console for a fresh one-time login URL.
func (r *Running) LoginURL(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.inst.URL+"/_launch", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+r.inst.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("the console of this home (process %d at %s) does not answer: %w", r.inst.PID, r.inst.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the console of this home (process %d at %s) refused to open: %s", r.inst.PID, r.inst.URL, resp.Status)
	}
	return strings.TrimSpace(string(b)), nil
}

// Claim takes the home's console lock. When another console holds it,
// Claim returns that console instead (release is then nil).
func Claim(home string) (release func(), running *Running, err error) {
	dir := filepath.Join(home, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	fl := flock.New(filepath.Join(dir, "console.lock"))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, nil, err
	}
	if ok {
		return func() {
			_ = os.Remove(filepath.Join(home, instanceFile))
			_ = fl.Unlock()
		}, nil, nil
	}
	// The holder writes its file just after listening: give it a moment.
	var inst instance
	for i := 0; i < 50; i++ {
		b, rerr := os.ReadFile(filepath.Join(home, instanceFile))
		if rerr == nil && json.Unmarshal(b, &inst) == nil && inst.URL != "" {
			return nil, &Running{inst: inst}, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, nil, errors.New("another bluemoon console holds this home but has not said where it listens; try again in a moment")
}

// Publish records where this console listens, for the next `bluemoon
// console` on the same home. The file holds a secret: 0600.
func (s *Server) Publish(home string) error {
	b, err := json.Marshal(instance{URL: s.BaseURL(), Secret: s.launchSecret, PID: os.Getpid()})
	if err != nil {
		return err
	}
	tmp := filepath.Join(home, instanceFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(home, instanceFile))
}
