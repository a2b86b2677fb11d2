package explorer

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestAssets_MatchChecksums: the embedded files are exactly those recorded
// in assets/SHA256SUMS (which scripts/explorer-assets checks against npm),
// each package folder keeps its LICENSE, and the page's bundles are there.
func TestAssets_MatchChecksums(t *testing.T) {
	sums, err := embedded.ReadFile("assets/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS: bad line %q", line)
		}
		recorded[name] = sum
	}
	var files []string
	dirs := map[string]bool{}
	err = fs.WalkDir(embedded, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "assets/SHA256SUMS" {
			return err
		}
		name := strings.TrimPrefix(p, "assets/")
		files = append(files, name)
		dirs[path.Dir(name)] = true
		body, _ := embedded.ReadFile(p)
		sum := sha256.Sum256(body)
		if got := hex.EncodeToString(sum[:]); recorded[name] != got {
			t.Errorf("%s: sha256 %s, SHA256SUMS says %q", name, got, recorded[name])
		}
		delete(recorded, name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range recorded {
		t.Errorf("SHA256SUMS names %s, which is not embedded", name)
	}
	for dir := range dirs {
		if _, err := fs.Stat(embedded, "assets/"+dir+"/LICENSE"); err != nil {
			t.Errorf("%s has no LICENSE", dir)
		}
	}
	sort.Strings(files)
	for _, name := range []string{reactJS, reactDOMJS, graphiqlJS, graphiqlCS} {
		if _, ok := New("t", "/graphql").assets[name]; !ok {
			t.Errorf("the page loads %s, which is not embedded (embedded: %v)", name, files)
		}
	}
}

// TestAssets_SameAsBefore: the bundles are the very files gqlgen's
// playground loaded from jsDelivr (its SRI values, v0.17.98), so the page
// behaves as it did.
func TestAssets_SameAsBefore(t *testing.T) {
	e := New("t", "/graphql")
	for name, sri := range map[string]string{
		graphiqlJS: "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
		graphiqlCS: "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
		reactJS:    "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
		reactDOMJS: "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
	} {
		sum := sha256.Sum256(e.assets[name].body)
		if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != sri {
			t.Errorf("%s: %s, gqlgen's playground loaded %s", name, got, sri)
		}
	}
}

// TestAssets_FetchNothingElse: the bundles themselves pull nothing from
// outside at run time — the stylesheet's fonts and images are data: URLs
// and no script names a CDN.
func TestAssets_FetchNothingElse(t *testing.T) {
	e := New("t", "/graphql")
	css := string(e.assets[graphiqlCS].body)
	if strings.Contains(css, "@import") {
		t.Error("the stylesheet imports another")
	}
	for _, m := range regexp.MustCompile(`url\(\s*["']?([^"')\s]{0,40})`).FindAllStringSubmatch(css, -1) {
		if !strings.HasPrefix(m[1], "data:") && !strings.HasPrefix(m[1], "#") {
			t.Errorf("the stylesheet loads %q", m[1])
		}
	}
	for _, name := range []string{reactJS, reactDOMJS, graphiqlJS} {
		js := string(e.assets[name].body)
		for _, host := range []string{"cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "googleapis.com", "esm.sh/", "importScripts("} {
			if strings.Contains(js, host) {
				t.Errorf("%s names %q", name, host)
			}
		}
	}
}
