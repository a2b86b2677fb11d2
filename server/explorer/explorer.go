// Package explorer serves GraphiQL, the API explorer of development mode,
// entirely from the binary: the page and the pinned react, react-dom and
// graphiql bundles it loads are embedded, so the explorer works on an
// intranet with no way out (gqlgen's playground loads them from a CDN and
// never gets past "Loading…" there).
//
// The files under assets/ are exactly those of the npm packages named by
// their folders; assets/SHA256SUMS records them and scripts/explorer-assets
// fetches them again from npm and checks them. To move to other versions,
// change the versions there and in the constants below.
package explorer

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// The bundles the page loads, relative to the assets folder. They are the
// files gqlgen's playground (v0.17.98) loads from jsDelivr, byte for byte:
// their hashes equal its SRI values.
const (
	reactJS    = "react-18.2.0/react.production.min.js"
	reactDOMJS = "react-dom-18.2.0/react-dom.production.min.js"
	graphiqlJS = "graphiql-4.1.2/graphiql.min.js"
	graphiqlCS = "graphiql-4.1.2/graphiql.min.css"
)

// AssetsPrefix is the path below which the assets are served; the page
// names them relative to "/", where it is served.
const AssetsPrefix = "/explorer/"

// embedded must be a package variable: go:embed fills nothing else. It is
// read-only.
//
//go:embed assets
var embedded embed.FS

// Explorer serves the page and its assets.
type Explorer struct {
	page   []byte
	assets map[string]asset // by path below AssetsPrefix
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

type pageRef struct {
	Src       string
	Integrity string
}

type pageData struct {
	Title    string
	Endpoint string
	CSS      pageRef
	Scripts  []pageRef // in load order: react before react-dom before graphiql
}

// New returns the explorer for the GraphQL endpoint at endpoint (a path
// on the same host; subscriptions use its websocket).
func New(title, endpoint string) *Explorer {
	e := &Explorer{assets: map[string]asset{}}
	err := fs.WalkDir(embedded, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "SHA256SUMS" {
			return err
		}
		body, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		e.assets[strings.TrimPrefix(p, "assets/")] = asset{
			body:        body,
			contentType: contentType(p),
			etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
		}
		return nil
	})
	if err != nil {
		panic("explorer: reading the embedded assets: " + err.Error()) // cannot happen: the files are compiled in
	}
	ref := func(name string) pageRef {
		sum := sha256.Sum256(e.assets[name].body)
		return pageRef{
			Src:       strings.TrimPrefix(AssetsPrefix, "/") + name,
			Integrity: "sha256-" + base64.StdEncoding.EncodeToString(sum[:]),
		}
	}
	page := template.Must(template.New("graphiql").Parse(pageTemplate))
	var buf bytes.Buffer
	err = page.Execute(&buf, pageData{
		Title:    title,
		Endpoint: endpoint,
		CSS:      ref(graphiqlCS),
		Scripts:  []pageRef{ref(reactJS), ref(reactDOMJS), ref(graphiqlJS)},
	})
	if err != nil {
		panic("explorer: rendering the page: " + err.Error()) // cannot happen: fixed template, plain strings
	}
	e.page = buf.Bytes()
	return e
}

// Page serves the explorer's HTML. It is small and names the assets by
// version, so it is revalidated every time and the assets never are.
func (e *Explorer) Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(e.page)
	})
}

// Assets serves the embedded files below AssetsPrefix. Their paths carry
// their package versions, so a browser may keep them for good.
func (e *Explorer) Assets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := e.assets[strings.TrimPrefix(r.URL.Path, AssetsPrefix)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}

// contentType is set here rather than looked up in the system's MIME
// table, which differs between machines.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	default: // the LICENSE files
		return "text/plain; charset=utf-8"
	}
}

// pageTemplate is gqlgen's playground page (MIT, github.com/99designs/gqlgen
// graphql/playground) with its CDN URLs replaced by the embedded assets
// and its options fixed to what aidhub used: the headers editor on and
// kept, subscriptions over the endpoint's websocket, no explorer plugin,
// storage without a prefix (so what users saved in the old page stays).
const pageTemplate = `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>{{.Title}}</title>
  <style>
    body { margin: 0; }
    #graphiql { height: 100vh; }
    .loading { height: 100%; display: flex; align-items: center; justify-content: center; font-size: 4rem; }
  </style>
{{- range .Scripts}}
  <script src="{{.Src}}" integrity="{{.Integrity}}"></script>
{{- end}}
  <link rel="stylesheet" href="{{.CSS.Src}}" integrity="{{.CSS.Integrity}}">
</head>
<body>
  <div id="graphiql">
    <div class="loading">Loading…</div>
  </div>
  <script>
    class PrefixedStorage {
      constructor(prefix = '') { this.prefix = prefix; }
      setItem(key, value) { localStorage.setItem(this.prefix + key, value); }
      getItem(key) { return localStorage.getItem(this.prefix + key); }
      removeItem(key) { localStorage.removeItem(this.prefix + key); }
      ownKeys() {
        const keys = [];
        for (let i = 0; i < localStorage.length; i++) {
          const key = localStorage.key(i);
          if (key.startsWith(this.prefix)) keys.push(key);
        }
        return keys;
      }
      clear() { this.ownKeys().forEach(key => localStorage.removeItem(key)); }
      get length() { return this.ownKeys().length; }
      key(index) {
        const keys = this.ownKeys().map(key => key.substring(this.prefix.length));
        return index >= 0 && index < keys.length ? keys[index] : null;
      }
    }
    const url = new URL({{.Endpoint}}, location.href);
    const subscriptionUrl = new URL(url);
    subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const fetcher = GraphiQL.createFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });
    ReactDOM.render(
      React.createElement(GraphiQL, {
        fetcher: fetcher,
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: true,
        plugins: [],
        storage: new PrefixedStorage(''),
        inputValueDeprecation: true,
      }),
      document.getElementById('graphiql'),
    );
  </script>
</body>
</html>
`
