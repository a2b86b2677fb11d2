package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/aidhub/aidhub/graph"
)

// requestInfo collects what the one log line of a request reports. Handlers
// deeper in the chain fill it in through the context.
type requestInfo struct {
	mu        sync.Mutex
	operation string
	opType    string
	role      string
	codes     map[string]int
}

func (i *requestInfo) setOperation(name, opType string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.operation, i.opType = name, opType
}

func (i *requestInfo) setRole(role string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.role = role
}

func (i *requestInfo) addCode(code string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.codes == nil {
		i.codes = map[string]int{}
	}
	i.codes[code]++
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	i, _ := ctx.Value(infoKey{}).(*requestInfo)
	return i
}

func requestLog(ctx context.Context) *zerolog.Logger {
	return graph.RequestLogger(ctx, zerolog.Nop())
}

// A client may pass its own request ID; anything unlike one is replaced.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestLogging gives each request an ID (echoed in X-Request-ID) and
// writes one line when it ends: method, path, status, duration, operation,
// role and error codes. Bodies, variables and tokens are never logged: they
// may carry personal data. A GraphQL request over HTTP is also recorded in
// metrics (nil: none); a websocket connection is not, since it lasts as
// long as its subscriptions.
func requestLogging(log zerolog.Logger, metrics *Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		reqLog := log.With().Str("request_id", id).Logger()
		info := &requestInfo{}
		ctx := context.WithValue(graph.WithRequestLogger(r.Context(), reqLog), infoKey{}, info)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))

		info.mu.Lock()
		defer info.mu.Unlock()
		outcome := "ok"
		if len(info.codes) > 0 || rec.status >= 400 {
			outcome = "error"
		}
		ev := reqLog.Info()
		if rec.status >= 500 {
			ev = reqLog.Error()
		}
		took := time.Since(start)
		codes := sortedCodes(info.codes)
		if r.URL.Path == "/graphql" && rec.status != http.StatusSwitchingProtocols {
			metrics.observe(info.operation, info.opType, codes, took)
		}
		ev = ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).
			Float64("duration_ms", float64(took.Microseconds())/1000).
			Int64("bytes", rec.bytes).Str("outcome", outcome)
		if info.operation != "" {
			ev = ev.Str("operation", info.operation)
		}
		if info.opType != "" {
			ev = ev.Str("operation_type", info.opType)
		}
		if info.role != "" {
			ev = ev.Str("role", info.role)
		}
		if len(codes) > 0 {
			ev = ev.Strs("error_codes", codes)
		}
		ev.Msg("request")
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Flush, Hijack and Unwrap keep streaming and websocket upgrades working
// through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("server: response writer cannot hijack")
	}
	s.status = http.StatusSwitchingProtocols
	return h.Hijack()
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
