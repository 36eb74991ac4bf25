// Package gateway is the hub's HTTP face: /graphql behind bearer-token auth and
// query limits, the offline GraphiQL page, /healthz and /metrics.
package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
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

// Config sets the gateway's limits. Zero fields take the defaults. Every bound is
// checked before anything runs, so a hostile request costs the hub milliseconds;
// each refusal names its limit in Chinese, with extensions.code "limit" ("invalid"
// for a string too long). docs/operations.md has the table.
type Config struct {
	// MaxDepth is how deeply a query may nest fields. Default 10.
	MaxDepth int `json:"maxDepth"`
	// MaxComplexity is the most a query may cost: one per field, times the page
	// size for connections. Default 20000.
	MaxComplexity int `json:"maxComplexity"`
	// RequestTimeout bounds each request. Default 15s.
	RequestTimeout time.Duration `json:"requestTimeout"`
	// MaxBodyBytes bounds a request body (and a websocket message). Default 1 MiB.
	MaxBodyBytes int64 `json:"maxBodyBytes"`

	// MaxTokens bounds a query document's lexical tokens (names, punctuation,
	// values). Default 5000.
	MaxTokens int `json:"maxTokens"`
	// MaxSelections bounds the selections (fields, fragment spreads, inline
	// fragments) of a query with its fragments expanded: a fragment's selections
	// count once for every spread of it. Default 1000.
	MaxSelections int `json:"maxSelections"`
	// MaxFragments bounds the fragments a document defines. Default 50.
	MaxFragments int `json:"maxFragments"`
	// MaxAliases bounds the aliased fields of a query, fragments expanded; it also
	// bounds how often one field can be asked for under different names. Default 30.
	MaxAliases int `json:"maxAliases"`
	// MaxRepeatedField bounds how often the same field (response name) is asked
	// for in one selection set, fragments expanded. Default 10.
	MaxRepeatedField int `json:"maxRepeatedField"`
	// MaxDirectives bounds the directives of a query, fragments expanded. Default 20.
	MaxDirectives int `json:"maxDirectives"`
	// MaxVariables bounds the variables a query declares and a request carries.
	// Default 50.
	MaxVariables int `json:"maxVariables"`
	// MaxListItems bounds every list (and object) written in a query or passed in
	// a variable. Default 100.
	MaxListItems int `json:"maxListItems"`
	// MaxStringLength bounds every string in a query or its variables, in
	// characters (refused with code "invalid", like the shorter bounds of the
	// fields that search). Default 10000.
	MaxStringLength int `json:"maxStringLength"`
	// MaxErrors bounds the errors of one response; the rest are counted in a last
	// entry. Default 20.
	MaxErrors int `json:"maxErrors"`
	// WebsocketInitTimeout is how long a websocket may stay open without sending
	// connection_init. Default 5s.
	WebsocketInitTimeout time.Duration `json:"websocketInitTimeout"`

	// Pprof serves the Go runtime's profiles (net/http/pprof) at /debug/pprof/,
	// to county operators and commanders only. Off by default.
	Pprof bool `json:"pprof"`
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxDepth, 10)
	def(&c.MaxComplexity, 20000)
	def(&c.MaxTokens, 5000)
	def(&c.MaxSelections, 1000)
	def(&c.MaxFragments, 50)
	def(&c.MaxAliases, 30)
	def(&c.MaxRepeatedField, 10)
	def(&c.MaxDirectives, 20)
	def(&c.MaxVariables, 50)
	def(&c.MaxListItems, 100)
	def(&c.MaxStringLength, 10000)
	def(&c.MaxErrors, 20)
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 15 * time.Second
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.WebsocketInitTimeout <= 0 {
		c.WebsocketInitTimeout = 5 * time.Second
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
	admin    []adminRoute
	routes   []route
	details  []healthDetail
	observed Observed
}

// healthDetail is a part of /healthz's detailed view the hub adds (HealthDetail).
type healthDetail struct {
	name string
	fn   func() any
}

// HealthDetail adds name, with what fn returns then, to the view of /healthz that
// county operators and commanders see (the reindex status). Call it before Handler.
func (s *Server) HealthDetail(name string, fn func() any) {
	s.details = append(s.details, healthDetail{name, fn})
}

// adminRoute is an operator-only route the hub adds (HandleAdmin).
type adminRoute struct {
	pattern, what string
	handler       http.Handler
}

// HandleAdmin serves handler at pattern (/admin/…) to county operators and
// commanders only, like /metrics; what names it in refusals. Call it before Handler.
func (s *Server) HandleAdmin(pattern, what string, handler http.Handler) {
	s.admin = append(s.admin, adminRoute{pattern, what, handler})
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
	hubMetrics.server.Store(s)
	gql := s.graphQL()
	authenticated := observeOperations(s.tokens.authenticate(gql))
	mux.Handle("/graphql", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Browsers cannot set headers on a websocket: subscriptions carry the
		// token in their connection payload, checked by the transport's InitFunc.
		if isWebsocket(r) {
			st := &wsState{remote: r.RemoteAddr}
			defer st.release()
			gql.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), wsStateKey{}, st)))
			return
		}
		authenticated.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /graphiql", s.graphiql)
	mux.HandleFunc("GET /cockpit", s.cockpit)
	mux.HandleFunc("GET /connectors", s.connectorsPage)
	mux.HandleFunc("GET /assets/", s.assets.serve)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", s.tokens.operatorsOnly("运行指标", promhttp.Handler()))
	for _, wh := range s.webhooks {
		mux.Handle("POST "+wh.WebhookPath(), wh)
	}
	for _, a := range s.admin {
		mux.Handle(a.pattern, s.tokens.operatorsOnly(a.what, a.handler))
	}
	for _, rt := range s.routes {
		mux.Handle(rt.pattern, s.tokens.withRoles(rt.what, rt.roles, rt.handler))
	}
	if s.cfg.Pprof {
		mux.Handle(pprofPrefix, s.pprofHandler())
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/cockpit", http.StatusFound)
	})
	return s.instrument(s.limitRequest(routed(mux)))
}

// graphQL returns the GraphQL handler with its transports, limits and error presenter.
func (s *Server) graphQL() http.Handler {
	srv := handler.New(resolvers.NewSchema(s.resolver))
	readLimit := s.cfg.MaxBodyBytes
	srv.AddTransport(transport.Websocket{
		Implementation:        wsImplementation{initTimeout: s.cfg.WebsocketInitTimeout},
		KeepAlivePingInterval: 10 * time.Second,
		PayloadReadLimit:      &readLimit,
		InitFunc:              s.initWebsocket,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(httpTransport{cfg: s.cfg, log: s.log})
	srv.AddTransport(refuseMethod{})
	documents := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(documents)
	srv.Use(operationTracing{})
	srv.Use(operationRecorder{})
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(&documentBounds{cfg: s.cfg, checked: documents})
	srv.Use(&queryLimits{maxDepth: s.cfg.MaxDepth, maxComplexity: s.cfg.MaxComplexity})
	srv.Use(resolvers.OnceAudit{})
	srv.Use(errorCap{max: s.cfg.MaxErrors})
	srv.AroundFields(stopAtDeadline)
	srv.SetErrorPresenter(s.presentError)
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		s.log.Error("resolver panic", "panic", v)
		return fengqiao.Errorf(fengqiao.EINTERNAL, "系统内部错误")
	})
	return srv
}

// errorCodes are the codes of extensions.code, documented in docs/schema.md
// ("Errors"): every error the gateway answers carries one of them.
var errorCodes = map[string]bool{
	fengqiao.EINVALID: true, fengqiao.ENOTFOUND: true, fengqiao.EUNAUTHORIZED: true, fengqiao.EFORBIDDEN: true,
	fengqiao.ELIMIT: true, fengqiao.EUNAVAILABLE: true, fengqiao.EINTERNAL: true,
}

// persistedQueryNotFound is the code of automatic persisted queries' protocol
// (Apollo's), kept as it is: clients send the query text again on seeing it.
const persistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

// apqMessages are the refusals of gqlgen's persisted-query extension, which carry no code.
var apqMessages = map[string]string{
	"invalid APQ extension data":             "extensions.persistedQuery 格式有误",
	"unsupported APQ version":                "extensions.persistedQuery 的版本不受支持（只支持 1）",
	"provided APQ hash does not match query": "extensions.persistedQuery 的 sha256Hash 与查询文本不符",
}

// presentError shows application errors with their Chinese message and code; the
// causes of internal errors are logged, not shown. gqlparser's and gqlgen's own
// errors (syntax, validation, variables) and malformed _entities representations
// are put in Chinese with code invalid.
func (s *Server) presentError(ctx context.Context, err error) *gqlerror.Error {
	if e := resolvers.EntityError(err); e != nil {
		err = e
	}
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		gerr.Message = timeoutMessage(s.cfg.RequestTimeout)
		gerr.Extensions = map[string]any{"code": fengqiao.ELIMIT}
		return gerr
	case errors.Is(err, context.Canceled): // the caller has gone: nobody reads this
		gerr.Message = "请求已取消"
		gerr.Extensions = map[string]any{"code": fengqiao.EINTERNAL}
		return gerr
	}
	var appErr *fengqiao.Error
	if !errors.As(err, &appErr) {
		switch code, _ := gerr.Extensions["code"].(string); {
		case code == errcode.ValidationFailed || code == errcode.ParseFailed:
			// gqlparser's own words, in Chinese, name the field or argument at fault.
			gerr.Message = "查询不符合接口定义：" + variableMessage(gerr.Path, chinese(gerr.Message))
			gerr.Extensions = map[string]any{"code": fengqiao.EINVALID}
			return gerr
		case code == "" && apqMessages[gerr.Message] != "":
			gerr.Message = "查询不符合接口定义：" + apqMessages[gerr.Message]
			gerr.Extensions = map[string]any{"code": fengqiao.EINVALID}
			return gerr
		case code == persistedQueryNotFound:
			gerr.Message = "持久化查询未找到，请连同查询文本重新发送（PersistedQueryNotFound）"
			return gerr
		case errorCodes[code]: // the gateway's limits, a resolver's own entries: already shown as meant
			return gerr
		case code != "":
			s.log.ErrorContext(ctx, "graphql error with an unknown code", "code", code, "err", err, "path", gerr.Path.String())
		default:
			s.log.ErrorContext(ctx, "graphql error", "err", err, "path", gerr.Path.String())
		}
		appErr = &fengqiao.Error{Code: fengqiao.EINTERNAL, Message: fengqiao.ErrorMessage(err)}
	} else if appErr.Code == fengqiao.EINTERNAL {
		s.log.ErrorContext(ctx, "graphql internal error", "err", err, "path", gerr.Path.String())
	}
	gerr.Message = appErr.Message
	gerr.Extensions = map[string]any{"code": appErr.Code}
	return gerr
}

func timeoutMessage(limit time.Duration) string {
	return fmt.Sprintf("查询超时（上限%s），请缩小查询范围", limit)
}

// stopAtDeadline resolves no field once the request's time is up, so that a query
// past its deadline stops at the next field instead of running to its end.
func stopAtDeadline(ctx context.Context, next graphql.Resolver) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return next(ctx)
}

// limitRequest bounds each request's time and body size. A websocket (a
// subscription) lives as long as its subscriber wants.
func (s *Server) limitRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		timeout := s.cfg.RequestTimeout
		if s.isPprof(r) {
			timeout = max(timeout, pprofTimeout)
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
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

// instrument records each request's latency, labelled with the route pattern that
// served it ("other" for none), never the path asked for: a label per path would
// let anyone grow the metrics without bound by asking for made-up paths.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		route := new(string)
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), routeKey{}, route)))
		label := *route
		if label == "" {
			label = "other"
		}
		requestDuration.WithLabelValues(label, http.StatusText(rec.status)).Observe(time.Since(start).Seconds())
	})
}

// routeKey holds, in a request's context, where routed writes the pattern matched.
type routeKey struct{}

// routed serves mux and tells instrument the pattern it matched. The mux sets the
// pattern on the request it is given, which is a copy of the one instrument holds.
func routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if route, ok := r.Context().Value(routeKey{}).(*string); ok {
			*route = r.Pattern
		}
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

// progress is a connector's catching up as /healthz shows it: records read, the
// rate, and the total and time left when the upstream tells how many are left.
type progress struct {
	Read       int       `json:"read"`
	Since      time.Time `json:"since"`
	Rate       float64   `json:"ratePerSecond"`
	Total      *int      `json:"total,omitempty"`
	Remaining  *int      `json:"remaining,omitempty"`
	ETASeconds *int      `json:"etaSeconds,omitempty"`
	Note       string    `json:"note,omitempty"`
}

func progressOf(p *fengqiao.SyncProgress) *progress {
	if p == nil {
		return nil
	}
	out := &progress{Read: p.Read, Since: p.Since, Rate: float64(int(p.Rate*10)) / 10}
	if p.Remaining < 0 {
		out.Note = "上游未提供总数，仅显示已读条数和速率"
		return out
	}
	total, remaining, eta := p.Total, p.Remaining, int(p.ETA.Seconds())
	out.Total, out.Remaining, out.ETASeconds = &total, &remaining, &eta
	return out
}

// healthz answers 200 once every connector has caught up, 503 before. Without a
// token it says only that and, per connector, its name, whether it has caught up
// and its breaker: enough for a load balancer. A county operator or commander
// sees the counts, the last success and the last error too, and the details the
// hub adds (HealthDetail: the reindex status).
//
// A connector whose last sync failed (an unreachable upstream, a full page with
// no next-page token), whose breaker is open or whose manifest was refused makes
// the status "degraded", with a reason per such connector, still 200 while the
// hub has something to serve; 503 when nothing can (no connector has ever
// synced). A hub still starting with such a connector is degraded too, not
// starting: that connector will not catch up by waiting.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	full := false
	if _, sent := bearer(r); sent {
		if _, err := s.tokens.operator(r, "完整健康信息"); err != nil {
			graphQLError(w, statusOf(err), err)
			return
		}
		full = true
	}
	states, err := s.resolver.Sync.States()
	if err != nil {
		body := map[string]any{"status": "error"}
		if full {
			body["error"] = fengqiao.ErrorMessage(err)
		}
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	type connector struct {
		Name          string     `json:"name"`
		Title         string     `json:"title,omitempty"`
		Breaker       string     `json:"breaker"`
		LastError     string     `json:"lastError,omitempty"`
		Refused       string     `json:"refused,omitempty"`
		CaughtUp      bool       `json:"caughtUp"`
		RecordsIn     *int       `json:"recordsIn,omitempty"`
		Quarantined   *int       `json:"quarantined,omitempty"`
		LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
		Progress      *progress  `json:"progress,omitempty"`
	}
	cs, reasons := []connector{}, []string{}
	for _, st := range states {
		c := connector{Name: st.Name, Breaker: st.BreakerState, CaughtUp: st.CaughtUp}
		if full {
			c.Title, c.LastError, c.Refused, c.RecordsIn, c.Quarantined, c.LastSuccessAt = st.Title, st.LastError, st.Refused, &st.RecordsIn, &st.Quarantined, st.LastSuccessAt
			c.Progress = progressOf(st.Progress)
		}
		cs = append(cs, c)
		reasons = append(reasons, degradedReasons(st, full)...)
	}
	// Something can be served once every connector has caught up, or any one
	// has, or has indexed before (the index kept from an earlier run).
	canServe := s.ready()
	for _, st := range states {
		canServe = canServe || st.CaughtUp || st.LastSuccessAt != nil
	}
	status, code := "ready", http.StatusOK
	switch {
	case len(reasons) > 0 && canServe:
		status = "degraded"
	case len(reasons) > 0:
		status, code = "degraded", http.StatusServiceUnavailable
	case !s.ready():
		status, code = "starting", http.StatusServiceUnavailable
	}
	body := map[string]any{"status": status, "connectors": cs}
	if len(reasons) > 0 {
		body["reasons"] = reasons
	}
	if full {
		for _, d := range s.details {
			body[d.name] = d.fn()
		}
	}
	writeJSON(w, code, body)
}

// degradedReasons are why a connector degrades the hub, one line each: with
// the error and the refusal in full for county operators and commanders, by
// kind alone for anyone.
func degradedReasons(st fengqiao.ConnectorState, full bool) []string {
	var out []string
	detail := func(kind, text string) {
		if full {
			kind += "：" + text
		}
		out = append(out, st.Name+"："+kind)
	}
	if st.Refused != "" {
		detail("清单被拒，运行原版本或未运行", st.Refused)
	}
	if st.LastError != "" {
		detail("上次同步失败", st.LastError)
	}
	if st.BreakerState == "open" {
		out = append(out, st.Name+"：熔断中，暂停访问上游")
	}
	return out
}
