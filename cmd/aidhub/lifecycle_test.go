package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestServe_SecondDemoAndStop: a second `serve --demo` on a store that
// has data says it kept it (not "organizations 0 … demo data", as if the
// store were empty), and a hub that stops says "stopped" after draining.
func TestServe_SecondDemoAndStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stop := func(s *serveProc) {
		t.Helper()
		s.cancel()
		select {
		case code := <-s.done:
			s.done <- code // for startServe's cleanup
			if code != 0 {
				t.Fatalf("serve exit %d\n%s", code, s.stderr)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop")
		}
	}
	first := startServe(t, env{}, "--demo", "--data", dir, "--addr", "127.0.0.1:0")
	stop(first)
	if logs := first.stderr.String(); !strings.Contains(logs, `"message":"demo data"`) || !strings.Contains(logs, `"message":"stopped"`) {
		t.Errorf("first serve: no demo data or stopped line:\n%s", logs)
	}
	second := startServe(t, env{}, "--demo", "--data", dir, "--addr", "127.0.0.1:0")
	stop(second)
	logs := second.stderr.String()
	if !strings.Contains(logs, "the store is not empty, it is kept as it is") || strings.Contains(logs, `"message":"demo data"`) {
		t.Errorf("second serve --demo does not say it kept the store:\n%s", logs)
	}
}

// TestServe_StopClosesSubscriptions: a subscriber gets a close frame with a
// normal code and a reason when serve stops (not an abnormal closure as
// the process exits under it), and serve still logs "stopped".
func TestServe_StopClosesSubscriptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	admin := onlyToken(t, mustRun(t, env{}, "token", "create", "--role", "ADMIN", "--data", dir))
	s := startServe(t, env{}, "--data", dir, "--addr", "127.0.0.1:0")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+s.addr+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	send := func(v any) {
		t.Helper()
		b, _ := json.Marshal(v)
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	// read returns the next message's type, or the error that ended the connection.
	read := func() (string, error) {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return "", err
		}
		var m struct{ Type string }
		_ = json.Unmarshal(b, &m)
		return m.Type, nil
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + admin}})
	if typ, err := read(); typ != "connection_ack" {
		t.Fatalf("init: %q %v", typ, err)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `subscription { matchSuggested { need { id } } }`}})
	// The server handles a connection's messages in order: the pong says
	// the subscription has started.
	send(map[string]any{"type": "ping"})
	for {
		typ, err := read()
		if err != nil {
			t.Fatalf("before stopping: %v", err)
		}
		if typ == "pong" {
			break
		}
		if typ != "ping" {
			t.Fatalf("subscription answered %q before any event", typ)
		}
	}

	// The client must read while the server stops: that answers its close frame.
	ended := make(chan error, 1)
	go func() {
		for {
			if _, err := read(); err != nil {
				ended <- err
				return
			}
		}
	}()
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exit %d\n%s", code, s.stderr)
	}
	err = <-ended
	var closed websocket.CloseError
	if !errors.As(err, &closed) {
		t.Fatalf("the connection ended without a close frame: %v", err)
	}
	if (closed.Code != websocket.StatusNormalClosure && closed.Code != websocket.StatusGoingAway) || closed.Reason == "" {
		t.Errorf("close frame %d %q, want 1000 or 1001 with a reason", closed.Code, closed.Reason)
	}
	logs := s.stderr.String()
	if !strings.Contains(logs, `"message":"stopped"`) || strings.Contains(logs, "subscriptions still open") {
		t.Errorf("serve did not stop cleanly:\n%s", logs)
	}
}
