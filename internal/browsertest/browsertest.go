// Package browsertest starts a headless Chromium for tests that must see
// what a person's browser does with a page the hub serves (GraphiQL, the
// web console): find the browser, start it quiet and on its own, and hand
// back a chromedp context bounded in time.
//
// Chromium is Debian's (apt-get install -y chromium): no browser is
// downloaded at test time. With CI=true a missing Chromium fails the test;
// elsewhere it skips and says how to install it.
package browsertest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvBinary names a Chromium to use instead of the one found on PATH.
const EnvBinary = "AIDHUB_CHROMIUM"

// Install is how to get the browser the tests use.
const Install = "apt-get install -y chromium chromium-driver"

// candidates are the names Chromium goes by, Debian's first.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Binary returns the path of the Chromium to start: $AIDHUB_CHROMIUM, or
// the first of the usual names found.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", errors.New(EnvBinary + "=" + p + " is not an executable: " + err.Error())
		}
		return p, nil
	}
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found (looked for /usr/bin/chromium, chromium, chromium-browser, google-chrome); install it with `" + Install + "` or set " + EnvBinary)
}

// Flags are the command line every test browser gets besides its binary
// and a fresh profile: headless, no sandbox (tests run as root in CI), and
// none of the browser's own traffic (updates, sync, QUIC probes), so that
// what a test sees leave it is the page's doing.
func Flags() []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
	}
}

// Context starts Chromium with Flags and a fresh profile (a temporary
// --user-data-dir that chromedp removes) and returns a tab's context that
// ends after timeout; the browser stops when the test ends. Without
// Chromium it skips the test, or fails it when CI=true.
func Context(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser test in CI: %v", err)
		}
		t.Skipf("browser test skipped: %v", err)
	}
	opts := append(Flags(), chromedp.ExecPath(bin))
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit and its profile to go
		cancelTimeout()
	})
	// Start the browser now, so that a browser that cannot start fails
	// here rather than in the test's first action.
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	return tabCtx
}
