package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"

	"github.com/aidhub/aidhub/server"
)

// TestCloseSubscriptions_RefusesNewUpgrades: once the hub is closing its
// subscriptions, an upgrade request gets 503 instead of a connection the
// shutdown would not wait for, and with none open there is nothing to
// wait for. (That open ones get a close frame: cmd/aidhub's
// TestServe_StopClosesSubscriptions, through a real serve.)
func TestCloseSubscriptions_RefusesNewUpgrades(t *testing.T) {
	h := server.New(server.Config{}, server.Deps{Log: zerolog.Nop()})
	h.CloseSubscriptions()
	h.CloseSubscriptions() // twice, as a second shutdown would: no panic
	r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	r.Header.Set("Sec-WebSocket-Protocol", "graphql-transport-ws")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("upgrade while closing: %d %s, want 503", w.Code, w.Body)
	}
	if err := h.WaitSubscriptions(context.Background()); err != nil {
		t.Errorf("WaitSubscriptions with nothing open: %v", err)
	}
}
