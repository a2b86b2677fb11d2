package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aidhub/aidhub/buildinfo"
)

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date of this aidhub",
		Long: `Print the version, commit and build date of this aidhub (also aidhub --version).

A release build sets them with -ldflags -X (see README); any other build
shows what the Go toolchain recorded: the module version, or (devel), and
the commit and commit time of the work tree it was built from.`,
		Example:           "  aidhub version",
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprint(a.stdout, versionText(buildinfo.Get()))
			return nil
		},
	}
}

// versionText is what `aidhub version` and `aidhub --version` print: one
// "name value" line each for the version, commit, build date and Go.
func versionText(in buildinfo.Info) string {
	orUnknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	commit := orUnknown(in.Commit)
	if in.Modified {
		commit += " (with uncommitted changes)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "aidhub %s\n", orUnknown(in.Version))
	fmt.Fprintf(&b, "commit %s\n", commit)
	fmt.Fprintf(&b, "date   %s\n", orUnknown(in.Date))
	fmt.Fprintf(&b, "go     %s\n", orUnknown(in.GoVersion))
	return b.String()
}
