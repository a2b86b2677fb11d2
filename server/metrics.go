package server

import (
	"errors"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// maxOperations bounds the operation label: operation names are chosen by
// clients, and every new name is a new time series. Names past the bound
// are counted as otherOperation.
const maxOperations = 200

const (
	anonymousOperation = "(anonymous)"
	otherOperation     = "(other)"
	outcomeOK          = "OK" // the metrics' label of a request without errors
)

// Metrics are the request metrics the handler records: GraphQL requests by
// operation and outcome code, and their latency.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	mu   sync.Mutex
	seen map[string]bool
}

// NewMetrics registers the request metrics on reg. Registering twice on
// one registry (two handlers over one hub, in tests) shares the first
// registration's series.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aidhub_graphql_requests_total",
		Help: "GraphQL requests over HTTP by operation name and outcome code (OK, or each distinct error code the response carried).",
	}, []string{"operation", "code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "aidhub_graphql_request_duration_seconds",
		Help:    "Time to answer a GraphQL request over HTTP, by operation name and type (query, mutation, subscription; empty when refused before parsing).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"operation", "operation_type"})
	var err error
	if requests, err = register(reg, requests); err != nil {
		return nil, err
	}
	if latency, err = register(reg, latency); err != nil {
		return nil, err
	}
	return &Metrics{requests: requests, latency: latency, seen: map[string]bool{}}, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

// operationLabel is the bounded label for a client's operation name.
func (m *Metrics) operationLabel(name string) string {
	if name == "" {
		return anonymousOperation
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[name] {
		return name
	}
	if len(m.seen) >= maxOperations {
		return otherOperation
	}
	m.seen[name] = true
	return name
}

// observe records one finished GraphQL request. A request with several
// error codes counts once under each.
func (m *Metrics) observe(operation, opType string, codes []string, took time.Duration) {
	if m == nil {
		return
	}
	op := m.operationLabel(operation)
	m.latency.WithLabelValues(op, opType).Observe(took.Seconds())
	if len(codes) == 0 {
		m.requests.WithLabelValues(op, outcomeOK).Inc()
		return
	}
	for _, c := range codes {
		m.requests.WithLabelValues(op, c).Inc()
	}
}

// MetricsHandler serves g in the Prometheus text format. It is meant for
// the admin address (serve --pprof), not the API's: the API handler New
// returns never serves /metrics, so the figures are not public.
func MetricsHandler(g prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	return mux
}

func sortedCodes(codes map[string]int) []string {
	out := make([]string, 0, len(codes))
	for c := range codes {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
