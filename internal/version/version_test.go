package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/bluemoon-mail/bluemoon", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "e02b4f2c0a9d81b3f5e6a7c8d9e0f1a2b3c4d5e6"},
			{Key: "vcs.time", Value: "2026-03-14T09:26:53Z"}, {Key: "vcs.modified", Value: "true"}}}
	in := FromBuildInfo(bi)
	want := "bluemoon v1.4.0 (commit e02b4f2c0a9d, 2026-03-14, with uncommitted changes) go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH
	if in.String() != want || in.Commit != "e02b4f2c0a9d81b3f5e6a7c8d9e0f1a2b3c4d5e6" {
		t.Fatalf("got  %q\nwant %q", in, want)
	}
	// go run, or a build outside a checkout: no commit, said so.
	if s := FromBuildInfo(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}).String(); !strings.HasPrefix(s, "bluemoon (devel) (commit unknown") {
		t.Fatal(s)
	}
	if s := FromBuildInfo(nil).String(); !strings.Contains(s, runtime.Version()) {
		t.Fatal(s)
	}
}
