package connectors

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"fengqiao/tracing"
)

// An upstream call is a span under its caller's, its retries and the breaker's
// decisions recorded on it.
func TestAnUpstreamCallIsASpanWithItsRetriesAndBreaker(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(tracing.NewProvider(tracing.Config{}, sdktrace.WithSpanProcessor(rec)))
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 || r.URL.Path == "/down" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	u := NewUpstream("traced", "测试上游", UpstreamConfig{RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond, BreakerFailures: 1, BreakerCooldown: time.Minute}, nil)

	ctx, parent := tracing.Tracer().Start(context.Background(), "caller")
	if _, err := u.Do(ctx, Call{Method: http.MethodGet, URL: srv.URL + "/ok?key=secret"}); err != nil {
		t.Fatal(err)
	}
	u.Do(ctx, Call{Method: http.MethodGet, URL: srv.URL + "/down"}) // fails after its retries: the breaker opens
	u.Do(ctx, Call{Method: http.MethodGet, URL: srv.URL + "/ok"})   // refused by the open breaker
	parent.End()

	var got []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "upstream traced" {
			got = append(got, s)
			if s.Parent().SpanID() != parent.SpanContext().SpanID() {
				t.Errorf("an upstream span is not the caller's child")
			}
		}
	}
	if len(got) != 3 {
		t.Fatalf("%d upstream spans, want 3", len(got))
	}
	type view struct {
		attrs  map[string]string
		events []string
	}
	views := make([]view, len(got))
	for i, s := range got {
		views[i].attrs = map[string]string{}
		for _, a := range s.Attributes() {
			views[i].attrs[string(a.Key)] = a.Value.Emit()
		}
		for _, e := range s.Events() {
			views[i].events = append(views[i].events, e.Name)
		}
	}
	if a := views[0].attrs; a["fengqiao.retries"] != "1" || a["url.path"] != "/ok" || a["http.response.status_code"] != "200" || a["fengqiao.breaker.state"] != "closed" {
		t.Errorf("first call: %v", a)
	}
	if !contains(views[0].events, "retry.scheduled") || !contains(views[0].events, "retry") {
		t.Errorf("first call's events %v, want a scheduled retry and the retry", views[0].events)
	}
	if a := views[1].attrs; a["fengqiao.retries"] != "2" || !contains(views[1].events, "retry.given_up") || !contains(views[1].events, "breaker.state_change") || got[1].Status().Code.String() != "Error" {
		t.Errorf("failing call: %v %v %v", a, views[1].events, got[1].Status())
	}
	if a := views[2].attrs; a["fengqiao.breaker.state"] != "open" || !contains(views[2].events, "breaker.rejected") {
		t.Errorf("call refused by the breaker: %v %v", a, views[2].events)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
