// Package version says which bluemoon this is: the module version and the
// commit it was built from, as the Go toolchain stamped them into the
// binary (runtime/debug.ReadBuildInfo). Nothing is set by hand at release
// time, so the answer cannot go stale.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Info is what a build says about itself.
type Info struct {
	Version  string    `json:"version"`            // v1.2.3, a pseudo-version, or "(devel)" for a local build
	Commit   string    `json:"commit,omitempty"`   // the VCS revision, when built from a checkout
	Time     time.Time `json:"time,omitzero"`      // the commit's time
	Modified bool      `json:"modified,omitempty"` // built with uncommitted changes
	Go       string    `json:"go"`                 // the Go release
	Platform string    `json:"platform"`           // GOOS/GOARCH
}

// Get reads this binary's build information.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo reads bi (nil: a binary built without module support).
func FromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Version: "(devel)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		return in
	}
	if bi.Main.Version != "" {
		in.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		in.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Commit = s.Value
		case "vcs.time":
			in.Time, _ = time.Parse(time.RFC3339, s.Value)
		case "vcs.modified":
			in.Modified = s.Value == "true"
		case "GOOS", "GOARCH":
			// runtime's answer is the same; kept for binaries built elsewhere
		}
	}
	return in
}

// String is one line: "bluemoon v1.2.3 (commit 0123456789ab, 2026-01-02,
// modified) go1.26.8 linux/amd64".
func (in Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bluemoon %s", in.Version)
	var notes []string
	if in.Commit != "" {
		notes = append(notes, "commit "+short(in.Commit))
	} else {
		notes = append(notes, "commit unknown: built without version control information")
	}
	if !in.Time.IsZero() {
		notes = append(notes, in.Time.UTC().Format(time.DateOnly))
	}
	if in.Modified {
		notes = append(notes, "with uncommitted changes")
	}
	fmt.Fprintf(&b, " (%s) %s %s", strings.Join(notes, ", "), in.Go, in.Platform)
	return b.String()
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
