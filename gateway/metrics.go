package gateway

import (
	"context"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/dgraph-io/ristretto/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The gateway's metrics (docs/metrics.md lists every family of the hub).

// operationDuration is every GraphQL request over HTTP by operation name and
// outcome: ok (ran without errors), error (ran, with errors in the response) or
// refused (not run: a bad body, syntax, validation, a limit, no valid token…).
var operationDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "fengqiao_graphql_operation_duration_seconds",
	Help:    "GraphQL operations over HTTP by operation name (bounded: anonymous, the first names seen, other) and outcome (ok, error, refused).",
	Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
}, []string{"operation", "outcome"})

// Outcomes of operationDuration.
const (
	outcomeOK      = "ok"
	outcomeError   = "error"
	outcomeRefused = "refused"
)

func init() {
	for _, o := range []string{outcomeOK, outcomeError, outcomeRefused} {
		operationDuration.WithLabelValues(anonymousOperation, o)
	}
	requestDuration.WithLabelValues("/graphql", http.StatusText(http.StatusOK))
}

// The operation label takes a bounded set of values, so that no client can grow
// the metrics without end by naming operations at random: "anonymous" for an
// operation without a name; the name itself for the first maxOperationNames
// names of operations that passed validation (a schema's field names cannot be
// guessed into existence, but names can); "other" for every name after them and
// for the names of requests refused before they were validated.
const (
	anonymousOperation = "anonymous"
	otherOperation     = "other"
	maxOperationNames  = 200
	maxOperationName   = 64
)

var operationName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]*$`)

// operationNames is the registry of names the label may take.
var operationNames = struct {
	sync.RWMutex
	known map[string]bool
}{known: map[string]bool{}}

// operationLabel is the label of an operation called name; validated says it ran
// (or was refused only after validation), so that its name may be registered.
func operationLabel(name string, validated bool) string {
	if name == "" {
		return anonymousOperation
	}
	if len(name) > maxOperationName || !operationName.MatchString(name) {
		return otherOperation
	}
	operationNames.RLock()
	known := operationNames.known[name]
	operationNames.RUnlock()
	if known {
		return name
	}
	if !validated {
		return otherOperation
	}
	operationNames.Lock()
	defer operationNames.Unlock()
	if len(operationNames.known) >= maxOperationNames && !operationNames.known[name] {
		return otherOperation
	}
	operationNames.known[name] = true
	return name
}

// operation is what the gateway learns of one GraphQL request as it is served.
type operation struct {
	name      string // the operation's name, once known
	validated bool   // the document passed validation
	errors    bool   // the response carries errors
}

type operationKey struct{}

func operationOf(ctx context.Context) *operation {
	op, _ := ctx.Value(operationKey{}).(*operation)
	return op
}

// observeOperations times every GraphQL request over HTTP and labels it by
// operation and outcome once it is answered.
func observeOperations(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		op := &operation{}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), operationKey{}, op)))
		if r.Method == http.MethodOptions {
			return
		}
		outcome := outcomeOK
		switch {
		case rec.status != http.StatusOK:
			outcome = outcomeRefused
		case op.errors:
			outcome = outcomeError
		}
		operationDuration.WithLabelValues(operationLabel(op.name, op.validated), outcome).Observe(time.Since(start).Seconds())
	})
}

// operationRecorder tells observeOperations the operation's name, whether it was
// validated and whether its response has errors.
type operationRecorder struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.OperationParameterMutator
} = operationRecorder{}

func (operationRecorder) ExtensionName() string                   { return "OperationMetrics" }
func (operationRecorder) Validate(graphql.ExecutableSchema) error { return nil }

func (operationRecorder) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if op := operationOf(ctx); op != nil {
		op.name = p.OperationName
	}
	return nil
}

func (operationRecorder) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	op := operationOf(ctx)
	if op == nil {
		return resp
	}
	if graphql.HasOperationContext(ctx) {
		if oc := graphql.GetOperationContext(ctx); oc != nil && oc.Operation != nil {
			op.validated = true
			op.name = oc.Operation.Name
		}
	}
	if resp != nil && len(resp.Errors) > 0 {
		op.errors = true
	}
	return resp
}

// Hub gauges and the caches, read at each scrape.
var (
	subscribersDesc = prometheus.NewDesc("fengqiao_graphql_subscriptions",
		"Live subscriptions now, by feed: events (the alerts and riskWarnings subscriptions), orders.", []string{"feed"}, nil)
	outboxDesc = prometheus.NewDesc("fengqiao_orders_outbox_depth",
		"Order deliveries waiting in the outbox to be sent to their upstream.", nil, nil)
	cacheHitsDesc = prometheus.NewDesc("fengqiao_cache_hits_total",
		"Cache hits, by cache (cockpit_figures, cockpit_lists).", []string{"cache"}, nil)
	cacheMissesDesc = prometheus.NewDesc("fengqiao_cache_misses_total",
		"Cache misses, by cache.", []string{"cache"}, nil)
	cacheEvictionsDesc = prometheus.NewDesc("fengqiao_cache_evictions_total",
		"Entries evicted to make room (not those expired), by cache.", []string{"cache"}, nil)
)

// Observed is what /metrics reads of the hub at each scrape beyond what the
// gateway sees itself. Nil fields read as zero.
type Observed struct {
	// FeedSubscribers counts the live event feed's subscribers (cockpit.Broker).
	FeedSubscribers func() int
	// OutboxDepth is how many deliveries the orders' outbox holds.
	OutboxDepth func() (int, error)
}

// Observe sets what /metrics reads of the hub. Call it before Handler.
func (s *Server) Observe(o Observed) { s.observed = o }

// hubCollector reads the server whose Handler was made last: a hub has one.
type hubCollector struct{ server atomic.Pointer[Server] }

var hubMetrics = &hubCollector{}

func init() { prometheus.MustRegister(hubMetrics) }

func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{subscribersDesc, outboxDesc, cacheHitsDesc, cacheMissesDesc, cacheEvictionsDesc} {
		ch <- d
	}
}

func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.server.Load()
	var (
		feed, orders, depth int
		caches              = map[string]*ristretto.Metrics{"cockpit_figures": nil, "cockpit_lists": nil}
	)
	if s != nil {
		if s.observed.FeedSubscribers != nil {
			feed = s.observed.FeedSubscribers()
		}
		if s.observed.OutboxDepth != nil {
			depth, _ = s.observed.OutboxDepth()
		}
		if s.resolver.OrderService != nil {
			orders = s.resolver.OrderService.Subscribers()
		}
		if f, ok := s.resolver.Figures.(interface{ CacheMetrics() *ristretto.Metrics }); ok {
			caches["cockpit_figures"] = f.CacheMetrics()
		}
		caches["cockpit_lists"] = s.resolver.ListCacheMetrics()
	}
	ch <- prometheus.MustNewConstMetric(subscribersDesc, prometheus.GaugeValue, float64(feed), "events")
	ch <- prometheus.MustNewConstMetric(subscribersDesc, prometheus.GaugeValue, float64(orders), "orders")
	ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(depth))
	for name, m := range caches {
		// ristretto's Metrics read as zero when nil.
		ch <- prometheus.MustNewConstMetric(cacheHitsDesc, prometheus.CounterValue, float64(m.Hits()), name)
		ch <- prometheus.MustNewConstMetric(cacheMissesDesc, prometheus.CounterValue, float64(m.Misses()), name)
		ch <- prometheus.MustNewConstMetric(cacheEvictionsDesc, prometheus.CounterValue, float64(m.KeysEvicted()), name)
	}
}
