package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/internal/browsertest"
	"github.com/aidhub/aidhub/server"
)

// TestExplorer_RendersInChromium opens GraphiQL in a real (headless)
// browser: it renders, fetches the schema, and runs a query typed into
// its editor, and nothing it requests leaves loopback. TestExplorer_Offline
// reads the page; this checks what a browser actually does with it.
func TestExplorer_RendersInChromium(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	ctx := browsertest.Context(t, 20*time.Second)

	var mu sync.Mutex
	requested := map[network.RequestID]*network.Request{}
	var order []network.RequestID
	status := map[network.RequestID]int64{}
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if _, seen := requested[ev.RequestID]; !seen {
				order = append(order, ev.RequestID)
			}
			requested[ev.RequestID] = ev.Request
		case *network.EventWebSocketCreated:
			order = append(order, ev.RequestID)
			requested[ev.RequestID] = &network.Request{Method: "WEBSOCKET", URL: ev.URL}
		case *network.EventResponseReceived:
			status[ev.RequestID] = ev.Response.Status
		}
	}); err != nil {
		t.Fatal(err)
	}

	const query = `{ organizations(first: 5) { edges { node { name } } } }`
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{})
			return err
		}),
		chromedp.Navigate(h.srv.URL+"/"),
		// The editors are CodeMirror instances inside GraphiQL's React tree:
		// their presence means the bundles loaded and the app rendered.
		chromedp.WaitVisible(".graphiql-query-editor .CodeMirror"),
	)
	if err != nil {
		t.Fatalf("GraphiQL did not render: %v", err)
	}
	quoted, _ := json.Marshal(query)
	// Type the query as the editor's content, as a person pasting it
	// would, then press the run button.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.setValue(`+string(quoted)+`)`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(".graphiql-execute-button")); err != nil {
		t.Fatal(err)
	}
	var shown string
	for shown == "" || !strings.Contains(shown, "重庆市慈善总会") {
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(".graphiql-response .CodeMirror") || {CodeMirror: {getValue: () => ""}}).CodeMirror.getValue()`))
		if err != nil {
			t.Fatalf("no result shown (last: %q): %v", shown, err)
		}
		shown = text
		if !strings.Contains(shown, "重庆市慈善总会") {
			if err := chromedp.Do(ctx, chromedp.Sleep(100*time.Millisecond)); err != nil {
				t.Fatalf("the query's result never showed (last: %q): %v", shown, err)
			}
		}
	}

	mu.Lock()
	defer mu.Unlock()
	posts := 0
	for _, id := range order {
		r := requested[id]
		t.Logf("%s %.80s → %d", r.Method, r.URL, status[id])
		u, err := url.Parse(r.URL)
		if err != nil {
			t.Errorf("request to an unreadable URL %q", r.URL)
			continue
		}
		if u.Scheme == "data" || u.Scheme == "blob" {
			continue // made in the page, not fetched
		}
		if !loopback(u.Hostname()) {
			t.Errorf("the explorer requested %s %s: not loopback", r.Method, r.URL)
		}
		if r.Method == "POST" && u.Path == "/graphql" && status[id] == 200 {
			posts++
		}
	}
	// The schema's introspection and the query typed in.
	if posts < 2 {
		t.Errorf("want at least 2 successful POSTs to /graphql (introspection, the query), got %d", posts)
	}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
