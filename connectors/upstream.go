// Package connectors reads the upstream government systems into the hub: the
// shared HTTP client with retries and a circuit breaker per upstream, the cursor
// helpers, the persisted sync state with its quarantine, and the runner that syncs
// every connector. Each upstream's connector lives in a subpackage.
package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"fengqiao"
	"fengqiao/tracing"
)

// UpstreamConfig tunes the HTTP client of one upstream. Zero fields take the defaults.
type UpstreamConfig struct {
	// Timeout bounds each attempt. Default 10s.
	Timeout time.Duration `json:"timeout"`
	// RetryMax is how many times a failed attempt is retried. Default 3.
	RetryMax int `json:"retryMax"`
	// RetryWaitMin and RetryWaitMax bound the exponential backoff; a Retry-After
	// header on 429 or 503 is honoured instead. Defaults 200ms and 5s.
	RetryWaitMin time.Duration `json:"retryWaitMin"`
	RetryWaitMax time.Duration `json:"retryWaitMax"`
	// BreakerFailures is how many consecutive failed calls open the breaker. Default 5.
	BreakerFailures uint32 `json:"breakerFailures"`
	// BreakerCooldown is how long the breaker stays open before it lets a trial call
	// through. Default 30s.
	BreakerCooldown time.Duration `json:"breakerCooldown"`
	// RateLimit caps the requests to the upstream: every attempt, retries, token
	// requests, live reads and write-backs included, waits its turn ("5/s",
	// "120/min", or a number per second). Default 0, no limit.
	RateLimit Rate `json:"rateLimit"`
	// Transport is the HTTP transport the client shares with the hub's other
	// upstream clients (NewTransport); nil shares the process's default one.
	Transport http.RoundTripper `json:"-"`
}

func (c UpstreamConfig) withDefaults() UpstreamConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Timeout, 10*time.Second)
	def(&c.RetryWaitMin, 200*time.Millisecond)
	def(&c.RetryWaitMax, 5*time.Second)
	def(&c.BreakerCooldown, 30*time.Second)
	if c.RetryMax == 0 {
		c.RetryMax = 3
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = 5
	}
	return c
}

// DefaultConnsPerHost is how many connections to one host a transport made by
// NewTransport(0) opens at most.
const DefaultConnsPerHost = 16

// NewTransport returns the HTTP transport the upstream clients of one hub share,
// so that its connections are one bounded pool: at most n open to one host (a
// request beyond waits for one to be free), at most n of them kept idle, and at
// most 4n idle across all hosts. n <= 0 is DefaultConnsPerHost.
func NewTransport(n int) *http.Transport {
	if n <= 0 {
		n = DefaultConnsPerHost
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost, t.MaxIdleConnsPerHost, t.MaxIdleConns = n, n, 4*n
	return t
}

// sharedTransport is the transport of the upstream clients given none.
var sharedTransport = sync.OnceValue(func() *http.Transport { return NewTransport(DefaultConnsPerHost) })

// Upstream is the HTTP client of one upstream system: every call is retried with
// backoff by go-retryablehttp and guarded by the upstream's own gobreaker.
type Upstream struct {
	name    string
	title   string
	client  *retryablehttp.Client
	breaker *gobreaker.CircuitBreaker[[]byte]
}

// NewUpstream returns the client for the upstream called name (title in Chinese, for errors).
func NewUpstream(name, title string, cfg UpstreamConfig, log *slog.Logger) *Upstream {
	cfg = cfg.withDefaults()
	initUpstreamMetrics(name)
	client := retryablehttp.NewClient()
	client.HTTPClient.Transport = cfg.Transport
	if cfg.Transport == nil {
		client.HTTPClient.Transport = sharedTransport()
	}
	client.HTTPClient.Timeout = cfg.Timeout
	client.RetryMax = cfg.RetryMax
	client.RetryWaitMin, client.RetryWaitMax = cfg.RetryWaitMin, cfg.RetryWaitMax
	client.Logger = nil
	var limiter *rate.Limiter
	if cfg.RateLimit > 0 {
		limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), 1)
		client.HTTPClient.Transport = turnTaker{client.HTTPClient.Transport}
	}
	client.RequestLogHook = func(_ retryablehttp.Logger, r *http.Request, attempt int) {
		c := callOf(r.Context())
		if c != nil {
			c.attempt = attempt
		}
		// Before each attempt, outside its timeout. An attempt whose turn would
		// come after the caller's deadline is not sent (turnTaker).
		if limiter != nil && limiter.Wait(r.Context()) != nil && c != nil {
			c.missedTurn = true
		}
		if attempt > 0 {
			retriesTotal.WithLabelValues(name).Inc()
			trace.SpanFromContext(r.Context()).AddEvent("retry", trace.WithAttributes(attribute.Int("fengqiao.attempt", attempt)))
		}
	}
	client.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if errors.Is(err, errMissedTurn) {
			return false, err
		}
		retry, cerr := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
		c := callOf(ctx)
		if !retry || cerr != nil || c == nil {
			return retry, cerr
		}
		span := trace.SpanFromContext(ctx)
		if c.attempt >= c.maxRetries {
			span.AddEvent("retry.given_up", trace.WithAttributes(attribute.String("fengqiao.reason", "max_retries"), failureAttr(resp, err)))
			return false, nil
		}
		// A retry whose wait outlasts the caller's deadline is not made: the call
		// fails now with the upstream's own failure, not later with the deadline.
		wait := client.Backoff(client.RetryWaitMin, client.RetryWaitMax, c.attempt, resp)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			span.AddEvent("retry.given_up", trace.WithAttributes(attribute.String("fengqiao.reason", "deadline"), failureAttr(resp, err)))
			return false, nil
		}
		span.AddEvent("retry.scheduled", trace.WithAttributes(attribute.Int64("fengqiao.wait_ms", wait.Milliseconds()), failureAttr(resp, err)))
		return true, nil
	}
	breaker := gobreaker.NewCircuitBreaker[[]byte](gobreaker.Settings{
		Name:        name,
		Timeout:     cfg.BreakerCooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= cfg.BreakerFailures },
		// A caller that gave up is not the upstream's failure.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) || errors.Is(err, errMissedTurn) },
		OnStateChange: func(name string, from, to gobreaker.State) {
			if log != nil {
				log.Warn("upstream breaker changed", "upstream", name, "from", from.String(), "to", to.String())
			}
			breakerState.WithLabelValues(name).Set(float64(to))
		},
	})
	return &Upstream{name: name, title: title, client: client, breaker: breaker}
}

// failureAttr names what failed an attempt: its status, else its error.
func failureAttr(resp *http.Response, err error) attribute.KeyValue {
	if resp != nil {
		return attribute.Int("http.response.status_code", resp.StatusCode)
	}
	if err != nil {
		return attribute.String("error.type", fmt.Sprintf("%T", err))
	}
	return attribute.String("error.type", "unknown")
}

// BreakerState returns "closed", "half-open" or "open".
func (u *Upstream) BreakerState() string { return u.breaker.State().String() }

// Call is one HTTP request to an upstream.
type Call struct {
	Method string
	URL    string
	Header http.Header
	Body   any        // marshalled as JSON when not nil
	Form   url.Values // sent as a form when not nil
}

// call is one Do's account of its attempts, read by the retry policy.
type call struct {
	attempt    int // the attempt being made, 0 for the first
	maxRetries int
	// missedTurn: the upstream's rate limit would let the attempt go only after
	// the caller's deadline.
	missedTurn bool
}

// errMissedTurn fails an attempt the upstream's rate limit did not let go in time.
var errMissedTurn = errors.New("按该系统的限流速率，本次请求在时限内轮不到，未发出")

// turnTaker sends only the attempts that got their turn under the rate limit, so
// that the upstream never sees more than its rate, even from callers in a hurry.
type turnTaker struct{ next http.RoundTripper }

func (t turnTaker) RoundTrip(r *http.Request) (*http.Response, error) {
	if c := callOf(r.Context()); c != nil && c.missedTurn {
		return nil, errMissedTurn
	}
	return t.next.RoundTrip(r)
}

type callKey struct{}

func callOf(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

type retriesKey struct{}

// withRetries caps the retries of the upstream calls made with ctx at n (a live
// read, which holds a stale answer, does not wait out a retry cycle).
func withRetries(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, retriesKey{}, n)
}

// Do sends the call and returns the response body of a 2xx answer. A 404 is
// ENOTFOUND and a 401 EUNAUTHORIZED: answers, not failures. Any other failure,
// after retries, is EUNAVAILABLE and counts against the breaker, and an open
// breaker fails at once with EUNAVAILABLE. Retries stay within ctx's deadline: a
// retry whose backoff would outlast it is not made.
func (u *Upstream) Do(ctx context.Context, c Call) (_ []byte, err error) {
	path := c.URL
	if parsed, perr := url.Parse(c.URL); perr == nil {
		path = parsed.Path // the query may carry keys; the path names the resource
	}
	before := u.breaker.State()
	ctx, span := tracing.Tracer().Start(ctx, "upstream "+u.name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("fengqiao.upstream", u.name), attribute.String("http.request.method", c.Method),
		attribute.String("url.path", path), attribute.String("fengqiao.breaker.state", before.String())))
	state := &call{maxRetries: u.client.RetryMax}
	defer func() {
		span.SetAttributes(attribute.Int("fengqiao.retries", state.attempt))
		if after := u.breaker.State(); after != before {
			span.AddEvent("breaker.state_change", trace.WithAttributes(attribute.String("from", before.String()), attribute.String("to", after.String())))
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, fengqiao.ErrorMessage(err))
		}
		span.End()
	}()
	if n, ok := ctx.Value(retriesKey{}).(int); ok && n < state.maxRetries {
		state.maxRetries = max(n, 0)
	}
	ctx = context.WithValue(ctx, callKey{}, state)
	var answered int // a 4xx status that is an answer, not a failure
	body, err := u.breaker.Execute(func() ([]byte, error) {
		req, err := c.request(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := u.client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		switch {
		case err != nil:
			return nil, err
		case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusUnauthorized:
			answered = resp.StatusCode // the upstream answered; that is not a failure
			return b, nil
		case resp.StatusCode/100 != 2:
			return nil, fmt.Errorf("%s %s: HTTP %d: %.200s", c.Method, c.URL, resp.StatusCode, b)
		}
		return b, nil
	})
	switch {
	case answered == http.StatusNotFound:
		return nil, fengqiao.Errorf(fengqiao.ENOTFOUND, "%s中不存在该记录", u.title)
	case answered == http.StatusUnauthorized:
		return nil, fengqiao.Errorf(fengqiao.EUNAUTHORIZED, "%s拒绝了接入凭据", u.title)
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		breakerRejectionsTotal.WithLabelValues(u.name).Inc()
		span.AddEvent("breaker.rejected", trace.WithAttributes(attribute.String("fengqiao.breaker.state", u.breaker.State().String())))
		return nil, fmt.Errorf("%w: %w", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s暂时不可用（熔断中）", u.title), err)
	case errors.Is(err, errMissedTurn):
		return nil, fmt.Errorf("%w: %w", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s限流中", u.title), err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s访问失败", u.title), err)
	}
	return body, nil
}

// request builds the HTTP request of a call: its body as JSON or a form, with a
// Content-Type saying which unless the call's headers name one.
func (c Call) request(ctx context.Context) (*retryablehttp.Request, error) {
	var payload io.Reader
	kind := ""
	switch {
	case c.Body != nil:
		b, err := json.Marshal(c.Body)
		if err != nil {
			return nil, err
		}
		payload, kind = bytes.NewReader(b), "application/json"
	case c.Form != nil:
		payload, kind = strings.NewReader(c.Form.Encode()), "application/x-www-form-urlencoded"
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, c.Method, c.URL, payload)
	if err != nil {
		return nil, err
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if kind != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", kind)
	}
	return req, nil
}
