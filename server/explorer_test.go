package server_test

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/server"
)

var (
	// attribute values that make a browser fetch something, and module
	// imports, static or dynamic
	fetchRef = regexp.MustCompile(`(?i)\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?([^"'\s>]*)`)
	importRe = regexp.MustCompile(`\bimport\s*(?:\(|[^;]*?\bfrom\b)\s*["']([^"']*)`)
	tagRef   = regexp.MustCompile(`(?is)<(script|link)\b([^>]*)>`)
	attr     = func(name string) *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b` + name + `\s*=\s*"([^"]*)"`)
	}
)

// TestExplorer_Offline checks that GraphiQL needs nothing from outside the
// hub: its page names no other host, and every script and stylesheet it
// loads is served by the hub itself, with its type, caching and the hash
// the page expects.
func TestExplorer_Offline(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	resp, err := http.Get(h.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("the page must be revalidated (it names the asset versions): Cache-Control %q", cc)
	}

	// No absolute URL anywhere in the page, and every reference relative
	// to it (not protocol-relative, not rooted elsewhere).
	for _, scheme := range []string{"http://", "https://", "ws://", "wss://"} {
		if i := strings.Index(strings.ToLower(page), scheme); i >= 0 {
			t.Errorf("the page names an absolute URL: %q", page[i:min(len(page), i+60)])
		}
	}
	var refs []string
	for _, m := range fetchRef.FindAllStringSubmatch(page, -1) {
		refs = append(refs, html.UnescapeString(m[1]))
	}
	for _, m := range importRe.FindAllStringSubmatch(page, -1) {
		refs = append(refs, html.UnescapeString(m[1]))
	}
	for _, ref := range refs {
		u, err := url.Parse(ref)
		if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(ref, "//") || strings.HasPrefix(ref, "/") {
			t.Errorf("the page loads %q: not a path relative to the page", ref)
		}
	}

	// Every script and stylesheet: served from the binary with its type,
	// cached for good, and matching its integrity attribute.
	wantType := map[string]string{"script": "text/javascript; charset=utf-8", "link": "text/css; charset=utf-8"}
	loaded := map[string]bool{}
	for _, tag := range tagRef.FindAllStringSubmatch(page, -1) {
		kind, attrs := strings.ToLower(tag[1]), tag[2]
		name := "src"
		if kind == "link" {
			name = "href"
		}
		m := attr(name).FindStringSubmatch(attrs)
		if m == nil {
			continue // the inline script
		}
		ref := html.UnescapeString(m[1])
		base, _ := url.Parse(h.srv.URL + "/")
		target, _ := url.Parse(ref)
		abs := base.ResolveReference(target).String()
		resp, err := http.Get(abs)
		if err != nil {
			t.Fatal(err)
		}
		asset, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != wantType[kind] {
			t.Errorf("%s: %d %q, want 200 %q", ref, resp.StatusCode, resp.Header.Get("Content-Type"), wantType[kind])
			continue
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("%s: Cache-Control %q, want a versioned asset kept for good", ref, cc)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", ref)
		}
		sum := sha256.Sum256(asset)
		integrity := attr("integrity").FindStringSubmatch(attrs)
		if want := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); integrity == nil || html.UnescapeString(integrity[1]) != want {
			t.Errorf("%s: integrity %v, served bytes hash to %s", ref, integrity, want)
		}
		// A second visit costs nothing: the ETag answers 304.
		req, _ := http.NewRequest(http.MethodGet, abs, nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		if again, err := http.DefaultClient.Do(req); err != nil || again.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its ETag: %v %v, want 304", ref, again, err)
		} else {
			again.Body.Close()
		}
		loaded[ref[strings.LastIndex(ref, "/")+1:]] = true
	}
	for _, name := range []string{"react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "graphiql.min.css"} {
		if !loaded[name] {
			t.Errorf("the page does not load %s from the hub (loaded: %v)", name, loaded)
		}
	}

	// Today's features: the endpoint, subscriptions over its websocket,
	// the headers editor (for `Authorization: Bearer …`).
	for _, want := range []string{`new URL("/graphql", location.href)`, `subscriptionUrl: subscriptionUrl.href`, `'wss:' : 'ws:'`,
		`isHeadersEditorEnabled: true`, `shouldPersistHeaders: true`, `<title>aidhub GraphiQL</title>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lost %q", want)
		}
	}
}

// TestExplorer_Assets checks what else is and is not served below the
// assets path: the licences are, nothing outside the embedded files is.
func TestExplorer_Assets(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	for path, want := range map[string]int{
		"/explorer/graphiql-4.1.2/LICENSE":                       200,
		"/explorer/react-18.2.0/LICENSE":                         200,
		"/explorer/react-dom-18.2.0/LICENSE":                     200,
		"/explorer/":                                             404,
		"/explorer/SHA256SUMS":                                   404,
		"/explorer/graphiql-4.1.2/graphiql.js":                   404,
		"/explorer/graphiql-4.1.2/graphiql.min.js.map":           404,
		"/explorer/../server.go":                                 404,
		"/explorer/graphiql-4.1.2/%2e%2e/react-18.2.0/LICENSE":   404,
		"/explorer/react-18.2.0/react.production.min.js?v=other": 200,
	} {
		resp, err := http.Get(h.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
		if want == 200 && strings.HasSuffix(path, "LICENSE") && resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("GET %s: %q", path, resp.Header.Get("Content-Type"))
		}
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/explorer/react-18.2.0/LICENSE", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST to an asset: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// TestProduction_NoExplorer: production serves neither the page nor its
// assets.
func TestProduction_NoExplorer(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{Production: true})
	for _, path := range []string{"/", "/explorer/graphiql-4.1.2/graphiql.min.js", "/explorer/react-18.2.0/LICENSE"} {
		resp, err := http.Get(h.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("production GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}
