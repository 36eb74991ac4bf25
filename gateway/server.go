// Package gateway is the hub's HTTP face: /graphql behind bearer-token auth and
// query limits, the offline GraphiQL page, /healthz and /metrics.
package gateway

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"fengqiao"
	"fengqiao/resolvers"
)

// Config sets the gateway's limits. Zero fields take the defaults.
type Config struct {
	// MaxDepth is how deeply a query may nest fields. Default 10.
	MaxDepth int `json:"maxDepth"`
	// MaxComplexity is the most a query may cost: one per field, times the page
	// size for connections. Default 20000.
	MaxComplexity int `json:"maxComplexity"`
	// RequestTimeout bounds each request. Default 15s.
	RequestTimeout time.Duration `json:"requestTimeout"`
	// MaxBodyBytes bounds a request body. Default 1 MiB.
	MaxBodyBytes int64 `json:"maxBodyBytes"`
}

func (c Config) withDefaults() Config {
	if c.MaxDepth <= 0 {
		c.MaxDepth = 10
	}
	if c.MaxComplexity <= 0 {
		c.MaxComplexity = 20000
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 15 * time.Second
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	return c
}

// Server serves the hub over HTTP.
type Server struct {
	cfg      Config
	resolver *resolvers.Resolver
	tokens   *Tokens
	ready    func() bool
	log      *slog.Logger
	assets   *assets
	webhooks []fengqiao.Webhook
}

var startTime = time.Now()

// NewServer returns the server for the resolver's data. ready reports whether the
// connectors have caught up, for /healthz; webhooks are the connectors upstreams
// push to, each served at its own path.
func NewServer(cfg Config, r *resolvers.Resolver, tokens *Tokens, ready func() bool, log *slog.Logger, webhooks ...fengqiao.Webhook) *Server {
	return &Server{cfg: cfg.withDefaults(), resolver: r, tokens: tokens, ready: ready, log: log, assets: loadAssets(), webhooks: webhooks}
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	gql := s.graphQL()
	authenticated := s.tokens.authenticate(gql)
	mux.Handle("/graphql", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Browsers cannot set headers on a websocket: subscriptions carry the
		// token in their connection payload, checked by the transport's InitFunc.
		if isWebsocket(r) {
			gql.ServeHTTP(w, r)
			return
		}
		authenticated.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /graphiql", s.graphiql)
	mux.HandleFunc("GET /cockpit", s.cockpit)
	mux.HandleFunc("GET /assets/", s.assets.serve)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", promhttp.Handler())
	for _, wh := range s.webhooks {
		mux.Handle("POST "+wh.WebhookPath(), wh)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/cockpit", http.StatusFound)
	})
	return s.instrument(s.limitRequest(mux))
}

// graphQL returns the GraphQL handler with its transports, limits and error presenter.
func (s *Server) graphQL() http.Handler {
	srv := handler.New(resolvers.NewSchema(s.resolver))
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		InitFunc: func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			token, _ := strings.CutPrefix(payload.Authorization(), "Bearer ")
			p, err := s.tokens.Verify(strings.TrimSpace(token))
			if err != nil {
				return ctx, nil, errors.New(fengqiao.ErrorMessage(err))
			}
			return fengqiao.WithPrincipal(ctx, p), nil, nil
		},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(&queryLimits{maxDepth: s.cfg.MaxDepth, maxComplexity: s.cfg.MaxComplexity})
	srv.Use(resolvers.OnceAudit{})
	srv.SetErrorPresenter(s.presentError)
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		s.log.Error("resolver panic", "panic", v)
		return fengqiao.Errorf(fengqiao.EINTERNAL, "系统内部错误")
	})
	return srv
}

// presentError shows application errors with their Chinese message and code; the
// causes of internal errors are logged, not shown.
func (s *Server) presentError(ctx context.Context, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	var appErr *fengqiao.Error
	if !errors.As(err, &appErr) {
		if gerr.Extensions != nil { // parse, validation and limit errors carry their own code
			return gerr
		}
		if errors.Is(err, context.DeadlineExceeded) {
			appErr = fengqiao.Errorf(fengqiao.ELIMIT, "查询超时（上限%s），请缩小查询范围", s.cfg.RequestTimeout)
		} else {
			s.log.Error("graphql error", "err", err, "path", gerr.Path.String())
			appErr = &fengqiao.Error{Code: fengqiao.EINTERNAL, Message: fengqiao.ErrorMessage(err)}
		}
	} else if appErr.Code == fengqiao.EINTERNAL {
		s.log.Error("graphql internal error", "err", err, "path", gerr.Path.String())
	}
	gerr.Message = appErr.Message
	gerr.Extensions = map[string]any{"code": appErr.Code}
	return gerr
}

// limitRequest bounds each request's time and body size. A websocket (a
// subscription) lives as long as its subscriber wants.
func (s *Server) limitRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

var requestDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "fengqiao_http_request_duration_seconds",
	Help:    "HTTP request latency by route and status.",
	Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
}, []string{"route", "status"})

// instrument records each request's latency.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := r.URL.Path
		if len(route) > 8 && route[:8] == "/assets/" {
			route = "/assets/"
		}
		requestDuration.WithLabelValues(route, http.StatusText(rec.status)).Observe(time.Since(start).Seconds())
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// Hijack hands the connection over, for websockets.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.status = http.StatusSwitchingProtocols
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// healthz answers 200 with each connector's state once every connector has caught
// up, 503 before.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	states, err := s.resolver.Sync.States()
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "error", "error": fengqiao.ErrorMessage(err)})
		return
	}
	type connector struct {
		Name          string     `json:"name"`
		Title         string     `json:"title"`
		Breaker       string     `json:"breaker"`
		LastError     string     `json:"lastError,omitempty"`
		CaughtUp      bool       `json:"caughtUp"`
		RecordsIn     int        `json:"recordsIn"`
		Quarantined   int        `json:"quarantined"`
		LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
	}
	var cs []connector
	for _, st := range states {
		cs = append(cs, connector{st.Name, st.Title, st.BreakerState, st.LastError, st.CaughtUp, st.RecordsIn, st.Quarantined, st.LastSuccessAt})
	}
	status, code := "ready", http.StatusOK
	if !s.ready() {
		status, code = "starting", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "connectors": cs})
}
