package connectors

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	recordsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "fengqiao_connector_records_total",
		Help: "Upstream records read, by connector and outcome (indexed or quarantined).",
	}, []string{"connector", "outcome"})
	syncErrorsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "fengqiao_connector_sync_errors_total",
		Help: "Sync batches that failed, by connector.",
	}, []string{"connector"})
	retriesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "fengqiao_upstream_retries_total",
		Help: "HTTP attempts retried, by upstream.",
	}, []string{"upstream"})
	breakerState = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fengqiao_upstream_breaker_state",
		Help: "Circuit breaker state by upstream: 0 closed, 1 half-open, 2 open.",
	}, []string{"upstream"})
)
