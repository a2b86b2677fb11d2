package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
)

// Handler is the hub's HTTP handler. Beside serving, it closes the
// websocket connections (subscriptions) when the hub stops:
// http.Server.Shutdown leaves hijacked connections alone, and a process
// that exits under them leaves their clients with an abnormal closure
// (1006) instead of a close frame.
type Handler struct {
	http.Handler
	websockets *websockets
}

// CloseSubscriptions ends every websocket connection's context, so that
// gqlgen closes each with a close frame (1000, "terminated"), and refuses
// new upgrades. It returns at once; WaitSubscriptions waits for the frames.
// Its signature fits http.Server.RegisterOnShutdown.
func (h *Handler) CloseSubscriptions() { h.websockets.closeAll() }

// WaitSubscriptions waits until every websocket connection has sent its
// close frame and closed, or ctx ends.
func (h *Handler) WaitSubscriptions(ctx context.Context) error { return h.websockets.wait(ctx) }

// websockets tracks the open websocket connections. Each upgrade request
// runs with a context that also ends when closing does, and counts as open
// until its network connection is closed: gqlgen sends the close frame in
// the background after its handler has returned.
type websockets struct {
	closing context.Context
	close   context.CancelFunc

	mu   sync.Mutex // orders add against closeAll, so that open.Add never races open.Wait
	open sync.WaitGroup
}

func newWebsockets() *websockets {
	closing, closeAll := context.WithCancel(context.Background())
	return &websockets{closing: closing, close: closeAll}
}

func (ws *websockets) closeAll() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.close()
}

func (ws *websockets) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		ws.open.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the subscriptions to close: %w", context.Cause(ctx))
	}
}

// add counts one more connection, unless the hub is closing.
func (ws *websockets) add() bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closing.Err() != nil {
		return false
	}
	ws.open.Add(1)
	return true
}

// serve runs one upgrade request through next.
func (ws *websockets) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	if !ws.add() {
		w.Header().Set("Connection", "close")
		http.Error(w, "the hub is shutting down", http.StatusServiceUnavailable)
		return
	}
	var once sync.Once
	done := func() { once.Do(ws.open.Done) }
	// Until the connection is hijacked nothing else will close it: an
	// upgrade that fails is done when its handler returns.
	hijacked := false
	defer func() {
		if !hijacked {
			done()
		}
	}()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// No transport.AppendCloseReason: gqlgen would also send that reason
	// as a connection_error when a client ends its own connection.
	defer context.AfterFunc(ws.closing, cancel)()
	w = &closeNotingWriter{ResponseWriter: w, hijacked: func() { hijacked = true }, closed: done}
	next.ServeHTTP(w, r.WithContext(ctx))
}

// closeNotingWriter hands out a hijacked connection that reports its Close.
type closeNotingWriter struct {
	http.ResponseWriter
	hijacked func()
	closed   func()
}

func (w *closeNotingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("server: response writer cannot hijack")
	}
	conn, rw, err := h.Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.hijacked()
	return &closeNotingConn{Conn: conn, closed: w.closed}, rw, nil
}

func (w *closeNotingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *closeNotingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type closeNotingConn struct {
	net.Conn
	closed func()
}

func (c *closeNotingConn) Close() error {
	err := c.Conn.Close()
	c.closed()
	return err
}
