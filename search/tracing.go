package search

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"fengqiao"
	"fengqiao/tracing"
)

// Traced wraps an index so that every query is a span ("index.Search",
// "index.Count", …) under the caller's: which backend answered is the wrapped
// index's business, the span says what was asked and how much came back. Writes
// (Upsert, Delete) are spans too, so a sync's trace shows its indexing.
func Traced(idx fengqiao.Index) fengqiao.Index {
	if _, ok := idx.(traced); ok {
		return idx
	}
	return traced{idx}
}

type traced struct{ fengqiao.Index }

// Unwrap returns the wrapped index.
func (t traced) Unwrap() fengqiao.Index { return t.Index }

func start(ctx context.Context, op string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return tracing.Tracer().Start(ctx, "index."+op, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
}

func end(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, fengqiao.ErrorMessage(err))
		span.SetAttributes(attribute.String("fengqiao.error_code", fengqiao.ErrorCode(err)))
	}
	span.End()
}

// filterAttrs describes a filter without what it searches for (text and
// identifiers may be personal): which parts are set.
func filterAttrs(f fengqiao.EventFilter) []attribute.KeyValue {
	var parts []string
	add := func(set bool, name string) {
		if set {
			parts = append(parts, name)
		}
	}
	add(len(f.Sources) > 0, "sources")
	add(len(f.Kinds) > 0, "kinds")
	add(len(f.Statuses) > 0, "statuses")
	add(f.OrgCode != nil, "orgCode")
	add(f.From != nil || f.To != nil, "period")
	add(f.Text != nil, "text")
	add(f.Identifier != nil, "identifier")
	add(len(f.Categories) > 0, "categories")
	add(f.PartyID != nil, "party")
	add(f.ProjectCode != nil, "project")
	add(f.RefersTo != nil, "refersTo")
	attrs := []attribute.KeyValue{attribute.StringSlice("fengqiao.filter", parts)}
	if f.OrgCode != nil {
		attrs = append(attrs, attribute.String("fengqiao.org_code", *f.OrgCode))
	}
	return attrs
}

func (t traced) Search(ctx context.Context, q fengqiao.EventQuery) (*fengqiao.EventPage, error) {
	ctx, span := start(ctx, "Search", append(filterAttrs(q.Filter), attribute.Int("fengqiao.first", q.First),
		attribute.Bool("fengqiao.after", q.After != ""), attribute.Bool("fengqiao.by_relevance", q.ByRelevance))...)
	page, err := t.Index.Search(ctx, q)
	if page != nil {
		span.SetAttributes(attribute.Int("fengqiao.hits", len(page.Events)), attribute.Int("fengqiao.total", page.Total))
	}
	end(span, err)
	return page, err
}

func (t traced) Count(ctx context.Context, f fengqiao.EventFilter) (int, error) {
	ctx, span := start(ctx, "Count", filterAttrs(f)...)
	n, err := t.Index.Count(ctx, f)
	span.SetAttributes(attribute.Int("fengqiao.total", n))
	end(span, err)
	return n, err
}

func (t traced) Facets(ctx context.Context, f fengqiao.EventFilter) (*fengqiao.Facets, error) {
	ctx, span := start(ctx, "Facets", filterAttrs(f)...)
	facets, err := t.Index.Facets(ctx, f)
	end(span, err)
	return facets, err
}

func (t traced) Get(ctx context.Context, id string) (*fengqiao.Event, error) {
	ctx, span := start(ctx, "Get", attribute.String("fengqiao.event_id", id))
	e, err := t.Index.Get(ctx, id)
	end(span, err)
	return e, err
}

func (t traced) Lookup(ctx context.Context, ids []string) (map[string]*fengqiao.Event, error) {
	ctx, span := start(ctx, "Lookup", attribute.Int("fengqiao.ids", len(ids)))
	found, err := t.Index.Lookup(ctx, ids)
	span.SetAttributes(attribute.Int("fengqiao.hits", len(found)))
	end(span, err)
	return found, err
}

func (t traced) Upsert(ctx context.Context, events []*fengqiao.Event) error {
	ctx, span := start(ctx, "Upsert", attribute.Int("fengqiao.events", len(events)))
	err := t.Index.Upsert(ctx, events)
	end(span, err)
	return err
}

func (t traced) Delete(ctx context.Context, ids []string) error {
	ctx, span := start(ctx, "Delete", attribute.Int("fengqiao.ids", len(ids)))
	err := t.Index.Delete(ctx, ids)
	end(span, err)
	return err
}
