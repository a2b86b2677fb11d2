// Package buildinfo says which build of aidhub is running: the version,
// commit and build date the release build sets with -ldflags, and what
// the Go toolchain recorded in the binary otherwise (debug.ReadBuildInfo).
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Set by the build:
//
//	go build -ldflags "-X github.com/aidhub/aidhub/buildinfo.version=v1.2.3 \
//	  -X github.com/aidhub/aidhub/buildinfo.commit=$(git rev-parse HEAD) \
//	  -X github.com/aidhub/aidhub/buildinfo.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" ./cmd/aidhub
var version, commit, date string

// Info is one build's identity.
type Info struct {
	Version   string // "(devel)" for a build from a work tree
	Commit    string // "" when unknown
	Date      string // the commit's or the build's time, RFC 3339; "" when unknown
	Modified  bool   // built from a work tree with uncommitted changes
	GoVersion string
}

// Get returns this binary's build information.
var Get = sync.OnceValue(func() Info {
	in := Info{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if in.Version == "" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if in.Commit == "" {
					in.Commit = s.Value
				}
			case "vcs.time":
				if in.Date == "" {
					in.Date = s.Value
				}
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	return in
})
