package connectors

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"fengqiao"
)

// The connectors' metrics (docs/metrics.md lists them). Every series of a
// connector or an upstream exists, at zero, from the moment it is added, so the
// first scrape shows them all and a rate() never starts from a missing series.
var (
	recordsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "fengqiao_connector_records_total",
		Help: "Upstream records read, by connector and outcome (indexed, unchanged, quarantined, stale, pending).",
	}, []string{"connector", "outcome"})
	syncErrorsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "fengqiao_connector_sync_errors_total",
		Help: "Sync batches that failed, by connector.",
	}, []string{"connector"})
	syncDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "fengqiao_connector_sync_duration_seconds",
		Help:    "Time of one sync batch (read, validate, index, link, commit), by connector.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 12), // 5 ms … ~20 min
	}, []string{"connector"})
	syncsRunning = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "fengqiao_connector_syncs_running",
		Help: "Sync batches running now, fleet-wide; at most the runner's concurrency.",
	})
	retriesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "fengqiao_upstream_retries_total",
		Help: "HTTP attempts retried, by upstream.",
	}, []string{"upstream"})
	breakerState = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fengqiao_upstream_breaker_state",
		Help: "Circuit breaker state by upstream: 0 closed, 1 half-open, 2 open.",
	}, []string{"upstream"})
	breakerRejectionsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "fengqiao_upstream_breaker_rejections_total",
		Help: "Calls refused at once by an open (or half-open and busy) breaker, by upstream.",
	}, []string{"upstream"})
)

// recordOutcomes are the outcomes of fengqiao_connector_records_total.
var recordOutcomes = []string{"indexed", "unchanged", "quarantined", "stale", "pending"}

// initConnectorMetrics makes every series of a connector exist at zero.
func initConnectorMetrics(name string) {
	for _, o := range recordOutcomes {
		recordsTotal.WithLabelValues(name, o)
	}
	syncErrorsTotal.WithLabelValues(name)
	syncDuration.WithLabelValues(name)
}

// initUpstreamMetrics makes every series of an upstream exist at zero.
func initUpstreamMetrics(name string) {
	retriesTotal.WithLabelValues(name)
	breakerState.WithLabelValues(name).Set(0)
	breakerRejectionsTotal.WithLabelValues(name)
}

// OwnRecords is a connector whose events are not its records one for one — the
// perception platform's alerts fold into incidents, an incident indexed again for
// every batch of alerts it takes — and that counts the records it takes in itself,
// with CountIndexed; the runner does not count its events as indexed records.
type OwnRecords interface {
	CountsOwnRecords()
}

// CountIndexed adds n records taken in by connector to
// fengqiao_connector_records_total{outcome="indexed"} (for OwnRecords connectors).
func CountIndexed(connector string, n int) {
	recordsTotal.WithLabelValues(connector, "indexed").Add(float64(n))
}

// countBatch records a committed batch of c: its records by outcome and its time.
func countBatch(c fengqiao.Connector, res batchResult, took time.Duration) {
	name := c.Name()
	syncDuration.WithLabelValues(name).Observe(took.Seconds())
	if _, own := c.(OwnRecords); !own {
		recordsTotal.WithLabelValues(name, "indexed").Add(float64(len(res.indexed)))
	}
	recordsTotal.WithLabelValues(name, "quarantined").Add(float64(len(res.rejected)))
	recordsTotal.WithLabelValues(name, "stale").Add(float64(res.stale))
	recordsTotal.WithLabelValues(name, "unchanged").Add(float64(res.unchanged))
	recordsTotal.WithLabelValues(name, "pending").Add(float64(len(res.parked)))
}

// recordTime is when the upstream last changed a record: its update time, else
// its reporting time. A time in the future (a clock ahead upstream) is zero: it
// does not count.
func recordTime(e *fengqiao.Event) time.Time {
	t := e.UpdatedAt
	if t.IsZero() || e.ReportedAt.After(t) {
		t = e.ReportedAt
	}
	if t.After(time.Now()) {
		return time.Time{}
	}
	return t
}

// stateCollector reports, at each scrape, what the runner's state holds: each
// connector's lag, quarantine and waiting events. It reads the runner that last
// added a connector: a hub has one.
type stateCollector struct {
	runner atomic.Pointer[Runner]
}

var (
	lagDesc = prometheus.NewDesc("fengqiao_connector_lag_seconds",
		"Now minus the newest record time (update, else report time) the connector indexed (kept in the sync state); 0 until it indexes one.",
		[]string{"connector"}, nil)
	quarantineDesc = prometheus.NewDesc("fengqiao_connector_quarantined",
		"Records the connector holds in quarantine now.", []string{"connector"}, nil)
	pendingDesc = prometheus.NewDesc("fengqiao_connector_pending",
		"Events of the connector waiting for the event they refer to.", []string{"connector"}, nil)
	caughtUpDesc = prometheus.NewDesc("fengqiao_connector_caught_up",
		"1 when the connector's last sync reached the end of its upstream's changes, else 0.", []string{"connector"}, nil)
)

var states = &stateCollector{}

func init() { prometheus.MustRegister(states) }

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lagDesc
	ch <- quarantineDesc
	ch <- pendingDesc
	ch <- caughtUpDesc
}

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	r := s.runner.Load()
	if r == nil {
		return
	}
	sts, err := r.States()
	if err != nil {
		return
	}
	now := time.Now()
	for _, st := range sts {
		lag := 0.0
		if st.NewestRecordAt != nil {
			lag = max(0, now.Sub(*st.NewestRecordAt).Seconds())
		}
		caught := 0.0
		if st.CaughtUp {
			caught = 1
		}
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, lag, st.Name)
		ch <- prometheus.MustNewConstMetric(quarantineDesc, prometheus.GaugeValue, float64(st.Quarantined), st.Name)
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(st.Pending), st.Name)
		ch <- prometheus.MustNewConstMetric(caughtUpDesc, prometheus.GaugeValue, caught, st.Name)
	}
}
