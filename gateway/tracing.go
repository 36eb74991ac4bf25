package gateway

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"fengqiao"
	"fengqiao/tracing"
)

// operationTracing opens a span for every GraphQL response — one per query or
// mutation, one per event a subscription sends, one per refusal — named after
// the operation ("graphql query CockpitPage", "graphql anonymous"), under which
// the index queries, the fields that leave the process and their upstream calls
// are children. Spans cost next to nothing while tracing is off.
type operationTracing struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.FieldInterceptor
} = operationTracing{}

func (operationTracing) ExtensionName() string                   { return "Tracing" }
func (operationTracing) Validate(graphql.ExecutableSchema) error { return nil }

// remoteFields are the fields whose resolvers leave the process: each is a span.
var remoteFields = map[string]bool{"Event.live": true}

func (operationTracing) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	name, kind := "", ""
	if graphql.HasOperationContext(ctx) {
		if oc := graphql.GetOperationContext(ctx); oc != nil && oc.Operation != nil {
			name, kind = oc.Operation.Name, string(oc.Operation.Operation)
		}
	}
	spanName := "graphql anonymous"
	switch {
	case kind != "" && name != "":
		spanName = "graphql " + kind + " " + operationLabel(name, true)
	case kind != "":
		spanName = "graphql " + kind
	}
	attrs := []attribute.KeyValue{attribute.String("graphql.operation.type", kind), attribute.String("graphql.operation.name", name)}
	if p := fengqiao.PrincipalFrom(ctx); p != nil {
		attrs = append(attrs, attribute.String("fengqiao.role", string(p.Role)), attribute.String("fengqiao.org_code", p.OrgCode))
	}
	ctx, span := tracing.Tracer().Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	defer span.End()
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		span.SetAttributes(attribute.Int("graphql.errors", len(resp.Errors)), attribute.StringSlice("fengqiao.error_codes", errorCodesOf(resp.Errors)))
		span.SetStatus(codes.Error, resp.Errors[0].Message)
	}
	return resp
}

func errorCodesOf(errs gqlerror.List) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range errs {
		code, _ := e.Extensions["code"].(string)
		if !seen[code] {
			seen[code] = true
			out = append(out, code)
		}
	}
	return out
}

func (operationTracing) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || !remoteFields[fc.Object+"."+fc.Field.Name] {
		return next(ctx)
	}
	ctx, span := tracing.Tracer().Start(ctx, "resolve "+fc.Object+"."+fc.Field.Name, trace.WithAttributes(
		attribute.String("graphql.field.path", strings.TrimPrefix(fc.Path().String(), "."))))
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, fengqiao.ErrorMessage(err))
	}
	return res, err
}
