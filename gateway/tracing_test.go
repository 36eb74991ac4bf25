package gateway_test

import (
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"fengqiao"
	"fengqiao/gateway"
	"fengqiao/resolvers"
	"fengqiao/search"
	"fengqiao/tracing"
)

var (
	recorderOnce sync.Once
	recorder     *tracetest.SpanRecorder
)

// spans installs, once for the package, a provider that keeps every span in memory.
func spans() *tracetest.SpanRecorder {
	recorderOnce.Do(func() {
		recorder = tracetest.NewSpanRecorder()
		otel.SetTracerProvider(tracing.NewProvider(tracing.Config{}, sdktrace.WithSpanProcessor(recorder)))
	})
	return recorder
}

// One GraphQL query is one span named after its operation, and every index query
// it makes is a child of it.
func TestAQueryIsASpanWithItsIndexQueriesAsChildren(t *testing.T) {
	t.Parallel()
	rec := spans()
	b := setupWith(t, gateway.Config{}, func(r *resolvers.Resolver) { r.Index = search.Traced(r.Index) })
	tok := b.token(t, fengqiao.RoleAnalyst, county)
	if _, r := b.query(t, tok, `query TracedEvents { events(first: 2) { totalCount edges { node { id } } } n: events(filter: {sources: [MEDIATION]}) { totalCount } }`, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	var op sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		for _, a := range s.Attributes() {
			if a.Key == "graphql.operation.name" && a.Value.Emit() == "TracedEvents" {
				op = s
			}
		}
	}
	if op == nil {
		t.Fatal("no span of the operation TracedEvents")
	}
	// Named after the operation while the registry of names has room (other tests
	// of the package fill it: then "other").
	if op.Name() != "graphql query TracedEvents" && op.Name() != "graphql query other" {
		t.Errorf("operation span %q", op.Name())
	}
	attrs := map[string]string{}
	for _, a := range op.Attributes() {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	if attrs["graphql.operation.name"] != "TracedEvents" || attrs["graphql.operation.type"] != "query" || attrs["fengqiao.role"] != "ANALYST" {
		t.Errorf("operation span attributes %v", attrs)
	}
	var children []string
	for _, s := range rec.Ended() {
		if s.Parent().SpanID() == op.SpanContext().SpanID() && s.SpanContext().TraceID() == op.SpanContext().TraceID() {
			children = append(children, s.Name())
		}
	}
	searches := 0
	for _, c := range children {
		if c == "index.Search" {
			searches++
		}
	}
	if searches != 2 {
		t.Errorf("children of the operation span: %v, want two index.Search", children)
	}
}
