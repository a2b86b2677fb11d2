package hub

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/aidhub/aidhub/buildinfo"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/jobs"
	"github.com/aidhub/aidhub/search"
)

// newRegistry builds the hub's own metrics registry (never Prometheus's
// global default, so two hubs in one process, as in tests, do not collide):
// the Go runtime, the process, the database pool, the build and the job
// queue.
func newRegistry(d *db.DB) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	bi := buildinfo.Get()
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "aidhub_build_info",
		Help: "Always 1; the labels say which build of aidhub is running.",
	}, []string{"version", "commit", "go_version"})
	build.WithLabelValues(bi.Version, bi.Commit, bi.GoVersion).Set(1)
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(d.DB.DB, d.Engine),
		build,
		newQueueCollector(d),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// queueCollector reports the job queue on each scrape: how many jobs wait
// by queue, kind and state, how long the oldest due one has waited, and
// how far the search index lags the catalog (the age of the oldest
// undelivered search.sync job).
type queueCollector struct {
	db                *db.DB
	jobs, oldest, lag *prometheus.Desc
	failed            *prometheus.Desc
}

func newQueueCollector(d *db.DB) *queueCollector {
	return &queueCollector{
		db: d,
		jobs: prometheus.NewDesc("aidhub_jobs", "Jobs not yet done by queue, kind and state (available, retryable, running).",
			[]string{"queue", "kind", "state"}, nil),
		oldest: prometheus.NewDesc("aidhub_jobs_oldest_age_seconds", "How long the oldest available job of a queue and kind has been due.",
			[]string{"queue", "kind"}, nil),
		lag: prometheus.NewDesc("aidhub_search_sync_lag_seconds",
			"Age of the oldest search.sync job not yet delivered (available, retryable or running); 0 when the index is up to date.", nil, nil),
		failed: prometheus.NewDesc("aidhub_jobs_stats_errors", "1 when the last scrape could not read the job table.", nil, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.oldest
	ch <- c.lag
	ch <- c.failed
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stats, err := jobs.QueueStats(ctx, c.db)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, 0)
	var lag time.Duration
	for _, s := range stats {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(s.Count), s.Queue, s.Kind, s.State)
		if s.State == "available" {
			ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.OldestDue.Seconds(), s.Queue, s.Kind)
		}
		if s.Kind == (search.SyncArgs{}).Kind() && s.OldestCreated > lag {
			lag = s.OldestCreated
		}
	}
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, lag.Seconds())
}

// matcherTimings feeds matchsvc's timings to a histogram by operation and
// outcome.
type matcherTimings struct{ h *prometheus.HistogramVec }

func newMatcherTimings(reg prometheus.Registerer) (matcherTimings, error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "aidhub_matcher_duration_seconds",
		Help: "Time the matcher took to load the store (load), sweep every open need (sweep) and re-match after a change (rematch_resource, rematch_household), by outcome (ok, error).",
		// From a re-match (milliseconds) to a load or sweep at city
		// scale (a minute or more).
		Buckets: []float64{.001, .005, .025, .1, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
	}, []string{"op", "outcome"})
	return matcherTimings{h}, reg.Register(h)
}

func (m matcherTimings) Observe(op string, took time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.h.WithLabelValues(op, outcome).Observe(took.Seconds())
}
