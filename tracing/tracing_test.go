package tracing

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A line logged inside a span names its trace and span; one logged outside does not.
func TestLogLinesCarryTheTraceOfTheirContext(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	provider := NewProvider(Config{}, sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
	ctx, span := provider.Tracer(Name).Start(context.Background(), "work")
	log.InfoContext(ctx, "inside")
	span.End()
	log.InfoContext(context.Background(), "outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"trace_id":"`+span.SpanContext().TraceID().String()+`"`) ||
		!strings.Contains(lines[0], `"span_id":"`+span.SpanContext().SpanID().String()+`"`) || strings.Contains(lines[1], "trace_id") {
		t.Fatalf("logged %s", buf.String())
	}
}

// Tracing is off without an endpoint; a bad config is refused in Chinese.
func TestSetupIsOffWithoutAnEndpointAndRefusesABadConfig(t *testing.T) {
	stop, err := Setup(context.Background(), Config{})
	if err != nil || stop(context.Background()) != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{{OTLPEndpoint: "collector:4318"}, {OTLPEndpoint: "http://127.0.0.1:4318", SampleRatio: 2}} {
		if _, err := Setup(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "tracing.") {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}
