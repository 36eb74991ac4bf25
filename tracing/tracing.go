// Package tracing sets up OpenTelemetry tracing for the hub: spans exported over
// OTLP/HTTP to a collector, off unless the config names one, and trace ids in the
// log lines written inside a span. The spans themselves are opened where the work
// happens: the gateway (a span per GraphQL operation and per field that leaves the
// process), connectors.Upstream (a span per upstream call, its retries and the
// breaker's decisions as events) and search.Traced (a span per index query).
// docs/metrics.md "Tracing" lists them with their attributes.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Config is the config's tracing: section. Tracing is off unless OTLPEndpoint is set.
type Config struct {
	// OTLPEndpoint is the collector's OTLP/HTTP traces URL, such as
	// http://127.0.0.1:4318/v1/traces (a URL without a path gets /v1/traces).
	OTLPEndpoint string `json:"otlpEndpoint"`
	// SampleRatio is the share of GraphQL operations (and syncs) traced, 0 to 1;
	// a span whose parent is sampled is always sampled. Default 1: every one.
	SampleRatio float64 `json:"sampleRatio"`
	// ServiceName names the hub in the traces. Default fengqiao.
	ServiceName string `json:"serviceName"`
	// Headers are sent with every export (a collector's token, say).
	Headers map[string]string `json:"headers"`
}

// Name is the instrumentation name of every tracer of the hub.
const Name = "fengqiao"

// Tracer is the hub's tracer, from the global provider (a no-op until Setup
// installs one, so spans cost next to nothing when tracing is off).
func Tracer() trace.Tracer { return otel.Tracer(Name) }

// Setup installs the exporter and the provider the config asks for and returns
// the function that flushes and stops them; with no endpoint it does nothing.
func Setup(ctx context.Context, cfg Config) (shutdown func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	if cfg.OTLPEndpoint == "" {
		return noop, nil
	}
	if cfg.SampleRatio < 0 || cfg.SampleRatio > 1 {
		return noop, fmt.Errorf("tracing.sampleRatio 应在 0 到 1 之间，收到 %v", cfg.SampleRatio)
	}
	endpoint := cfg.OTLPEndpoint
	if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
		return noop, fmt.Errorf("tracing.otlpEndpoint 应为 http:// 或 https:// 开头的地址，收到 %q", endpoint)
	}
	if rest := endpoint[strings.Index(endpoint, "//")+2:]; !strings.Contains(rest, "/") {
		endpoint += "/v1/traces"
	}
	exporter, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint), otlptracehttp.WithHeaders(cfg.Headers))
	if err != nil {
		return noop, fmt.Errorf("tracing.otlpEndpoint 有误：%w", err)
	}
	provider := NewProvider(cfg, sdktrace.WithBatcher(exporter))
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return provider.Shutdown, nil
}

// NewProvider returns the provider of cfg (its sampler and resource) with opts,
// such as the span processor of an exporter; tests pass an in-memory one.
func NewProvider(cfg Config, opts ...sdktrace.TracerProviderOption) *sdktrace.TracerProvider {
	ratio := cfg.SampleRatio
	if ratio == 0 {
		ratio = 1
	}
	name := cfg.ServiceName
	if name == "" {
		name = Name
	}
	opts = append([]sdktrace.TracerProviderOption{
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", name))),
	}, opts...)
	return sdktrace.NewTracerProvider(opts...)
}

// LogHandler adds trace_id and span_id to every record logged with the context
// of a recording span, so that a log line leads to its trace.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(logHandler); ok {
		return h
	}
	return logHandler{h}
}

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler { return logHandler{h.Handler.WithGroup(name)} }
