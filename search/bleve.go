// Package search implements fengqiao.Index: embedded Bleve (the default, one
// directory on disk) and, for scale-out, Elasticsearch.
package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"fengqiao"
)

// Bleve is the embedded index: one Bleve (scorch) directory on disk.
// Chinese text is analyzed by Bleve's cjk analyzer (width folding, lower case,
// overlapping bigrams), so any two adjacent characters of a text find it.
type Bleve struct {
	index bleve.Index
	// Tests hook these around the Bleve searches that search runs.
	searchStarted, searchDone func()
}

var _ fengqiao.Index = (*Bleve)(nil)

// OpenBleve opens the index in dir, creating it if dir does not hold one.
func OpenBleve(dir string) (*Bleve, error) {
	idx, err := bleve.Open(dir)
	if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, err
		}
		idx, err = bleve.New(dir, eventMapping())
	}
	if err != nil {
		return nil, fmt.Errorf("open bleve index %s: %w", dir, err)
	}
	return &Bleve{index: idx}, nil
}

// eventMapping indexes the searchable fields of an event document; the event
// itself is stored whole as JSON in "raw".
func eventMapping() mapping.IndexMapping {
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store, f.IncludeInAll, f.DocValues = false, false, true
		return f
	}
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer, f.Store, f.IncludeInAll, f.IncludeTermVectors = cjk.AnalyzerName, false, false, true
		return f
	}
	date := func() *mapping.FieldMapping {
		f := bleve.NewDateTimeFieldMapping()
		f.Store, f.IncludeInAll = false, false
		return f
	}
	raw := bleve.NewTextFieldMapping()
	raw.Index, raw.Store, raw.IncludeInAll, raw.DocValues = false, true, false, false

	doc := bleve.NewDocumentStaticMapping()
	for _, name := range []string{fieldSource, fieldKind, fieldStatus, fieldCategory, fieldOrgPath, fieldPartyIDs, fieldProject, fieldRefersTo, fieldSortKey, fieldIDs, fieldTown, fieldLevel, fieldOutcome} {
		doc.AddFieldMappingsAt(name, kw())
	}
	for _, name := range textFields {
		f := text()
		f.Store = name == fieldTitle || name == fieldContent // for highlighting
		doc.AddFieldMappingsAt(name, f)
	}
	doc.AddFieldMappingsAt(fieldReportedAt, date())
	doc.AddFieldMappingsAt(fieldDeadline, date())
	doc.AddFieldMappingsAt(fieldRaw, raw)

	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = keyword.Name
	return m
}

// Upsert implements fengqiao.Index.
func (b *Bleve) Upsert(ctx context.Context, events []*fengqiao.Event) error {
	batch := b.index.NewBatch()
	for _, e := range events {
		doc, err := newDocument(e)
		if err != nil {
			return err
		}
		if err := batch.Index(e.ID, doc); err != nil {
			return fmt.Errorf("index %s: %w", e.ID, err)
		}
	}
	return b.index.Batch(batch)
}

// Get implements fengqiao.Index.
func (b *Bleve) Get(ctx context.Context, id string) (*fengqiao.Event, error) {
	return lookupOne(ctx, b, id)
}

// Lookup implements fengqiao.Index.
func (b *Bleve) Lookup(ctx context.Context, ids []string) (map[string]*fengqiao.Event, error) {
	found := map[string]*fengqiao.Event{}
	if len(ids) == 0 {
		return found, nil
	}
	req := bleve.NewSearchRequestOptions(bleve.NewDocIDQuery(ids), len(ids), 0, false)
	req.Fields = []string{fieldRaw}
	res, err := b.search(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, h := range res.Hits {
		e, err := decodeRaw(h.Fields[fieldRaw])
		if err != nil {
			return nil, err
		}
		found[e.ID] = e
	}
	return found, nil
}

// windows are the spans of reporting time that a page query probes, newest first,
// before it falls back to every match: a newest-first page then sorts the events
// of a recent span instead of all of them, so its cost follows the span, not the
// size of the index.
var windows = []time.Duration{24 * time.Hour, 7 * 24 * time.Hour, 31 * 24 * time.Hour, 366 * 24 * time.Hour}

// Search implements fengqiao.Index.
func (b *Bleve) Search(ctx context.Context, q fengqiao.EventQuery) (*fengqiao.EventPage, error) {
	after, err := decodeCursor(q.After)
	if err != nil {
		return nil, err
	}
	size := pageSize(q.First)
	if size == 0 {
		total, err := b.Count(ctx, q.Filter)
		return &fengqiao.EventPage{Total: total}, err
	}
	if q.ByRelevance {
		return b.ranked(ctx, q, after, size)
	}
	upper := pageUpperBound(q.Filter, after)
	for _, span := range append(windows, 0) {
		f, bounded := q.Filter, span > 0
		if from := upper.Add(-span); bounded && (f.From == nil || from.After(*f.From)) {
			f.From = &from
		} else {
			bounded = false
		}
		// Ask for one more than the page to learn whether another page follows.
		req := b.request(f, size+1)
		req.SortBy([]string{"-" + fieldSortKey})
		if after != "" {
			req.SearchAfter = []string{after}
		}
		res, err := b.search(ctx, req)
		if err != nil {
			return nil, err
		}
		if bounded && len(res.Hits) <= size {
			continue // the span may not hold the whole page: widen it
		}
		page, err := pageOf(res, size, func(e *fengqiao.Event, _ int) string { return encodeCursor(sortKey(e)) })
		if err == nil && bounded {
			page.Total, err = b.Count(ctx, q.Filter)
		}
		return page, err
	}
	panic("unreachable: the last span is unbounded")
}

// ranked pages by relevance to the text, deepest MaxRankedResults; the cursor is
// the offset of the next hit.
func (b *Bleve) ranked(ctx context.Context, q fengqiao.EventQuery, after string, size int) (*fengqiao.EventPage, error) {
	offset, err := rankOffset(after, size)
	if err != nil {
		return nil, err
	}
	req := b.request(q.Filter, size+1)
	req.From = offset
	req.SortBy([]string{"-_score", "-" + fieldSortKey})
	res, err := b.search(ctx, req)
	if err != nil {
		return nil, err
	}
	return pageOf(res, size, func(_ *fengqiao.Event, i int) string { return rankCursor(offset, i) })
}

// request asks for events matching f, with their stored form and, when f has
// text, highlighted fragments.
func (b *Bleve) request(f fengqiao.EventFilter, size int) *bleve.SearchRequest {
	req := bleve.NewSearchRequestOptions(bleveQuery(f), size, 0, false)
	req.Fields = []string{fieldRaw}
	if f.Text != nil && *f.Text != "" {
		req.Highlight = bleve.NewHighlightWithStyle(markStyle)
		req.Highlight.Fields = []string{fieldTitle, fieldContent}
	}
	return req
}

// pageOf turns hits into a page of at most size events.
func pageOf(res *bleve.SearchResult, size int, cursor func(*fengqiao.Event, int) string) (*fengqiao.EventPage, error) {
	page := &fengqiao.EventPage{Total: int(res.Total), HasNext: len(res.Hits) > size}
	for i, h := range res.Hits[:min(size, len(res.Hits))] {
		e, err := decodeRaw(h.Fields[fieldRaw])
		if err != nil {
			return nil, err
		}
		page.Events = append(page.Events, e)
		page.Cursors = append(page.Cursors, cursor(e, i))
		var frags []string
		for _, field := range []string{fieldTitle, fieldContent} {
			frags = append(frags, h.Fragments[field]...)
		}
		page.Highlights = append(page.Highlights, frags)
	}
	return page, nil
}

// Facets implements fengqiao.Index.
func (b *Bleve) Facets(ctx context.Context, f fengqiao.EventFilter) (*fengqiao.Facets, error) {
	req := bleve.NewSearchRequestOptions(bleveQuery(f), 0, 0, false)
	for _, field := range facetFields {
		req.AddFacet(field, bleve.NewFacetRequest(field, 50))
	}
	res, err := b.search(ctx, req)
	if err != nil {
		return nil, err
	}
	counts := func(field string) []fengqiao.FacetCount {
		var out []fengqiao.FacetCount
		if fr := res.Facets[field]; fr != nil && fr.Terms != nil {
			for _, t := range fr.Terms.Terms() {
				if t.Term != "" {
					out = append(out, fengqiao.FacetCount{Value: t.Term, Count: t.Count})
				}
			}
		}
		sortFacets(out)
		return out
	}
	return facetsOf(counts), nil
}

// Count implements fengqiao.Index.
func (b *Bleve) Count(ctx context.Context, f fengqiao.EventFilter) (int, error) {
	q := bleveQuery(f)
	if _, all := q.(*query.MatchAllQuery); all {
		n, err := b.index.DocCount()
		return int(n), err
	}
	res, err := b.search(ctx, bleve.NewSearchRequestOptions(q, 0, 0, false))
	if err != nil {
		return 0, err
	}
	return int(res.Total), nil
}

// search runs a Bleve search until it is done or ctx ends, whichever comes
// first. Bleve looks at ctx only while it collects hits; building the searchers of
// a long text (one term per two characters, in each text field) takes as long as
// it takes. A search whose request has run out of time is left to finish on its
// own (it holds the index open until then) and its caller gets ctx's error, which
// the gateway shows as 查询超时.
func (b *Bleve) search(ctx context.Context, req *bleve.SearchRequest) (*bleve.SearchResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ctx.Done() == nil { // a context that never ends: no need to watch it
		return b.index.SearchInContext(ctx, req)
	}
	type result struct {
		res *bleve.SearchResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		if b.searchStarted != nil {
			b.searchStarted()
		}
		res, err := b.index.SearchInContext(ctx, req)
		done <- result{res, err}
		if b.searchDone != nil {
			b.searchDone()
		}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close implements fengqiao.Index.
func (b *Bleve) Close() error { return b.index.Close() }

// bleveQuery translates a filter into a conjunction of Bleve queries.
func bleveQuery(f fengqiao.EventFilter) query.Query {
	var must []query.Query
	anyTerm := func(field string, values []string) {
		if len(values) == 0 {
			return
		}
		var should []query.Query
		for _, v := range values {
			t := bleve.NewTermQuery(v)
			t.SetField(field)
			should = append(should, t)
		}
		must = append(must, bleve.NewDisjunctionQuery(should...))
	}
	anyTerm(fieldSource, strs(f.Sources))
	anyTerm(fieldCategory, f.Categories)
	anyTerm(fieldLevel, strs(f.HandlingLevels))
	anyTerm(fieldOutcome, f.Outcomes)
	if f.DeadlineBefore != nil {
		excl := false
		r := bleve.NewDateRangeInclusiveQuery(time.Time{}, *f.DeadlineBefore, nil, &excl)
		r.SetField(fieldDeadline)
		must = append(must, r)
	}
	if f.Identifier != nil && *f.Identifier != "" {
		anyTerm(fieldIDs, []string{strings.ToUpper(strings.TrimSpace(*f.Identifier)), strings.TrimSpace(*f.Identifier)})
	}
	anyTerm(fieldKind, strs(f.Kinds))
	anyTerm(fieldStatus, strs(f.Statuses))
	if f.OrgCode != nil {
		anyTerm(fieldOrgPath, []string{*f.OrgCode})
	}
	if f.PartyID != nil {
		anyTerm(fieldPartyIDs, []string{*f.PartyID})
	}
	if f.ProjectCode != nil {
		anyTerm(fieldProject, []string{*f.ProjectCode})
	}
	if f.RefersTo != nil {
		anyTerm(fieldRefersTo, []string{*f.RefersTo})
	}
	if f.From != nil || f.To != nil {
		var from, to time.Time // the zero time leaves that end open
		if f.From != nil {
			from = *f.From
		}
		if f.To != nil {
			to = *f.To
		}
		incl, excl := true, false
		r := bleve.NewDateRangeInclusiveQuery(from, to, &incl, &excl)
		r.SetField(fieldReportedAt)
		must = append(must, r)
	}
	if f.Text != nil && *f.Text != "" {
		var should []query.Query
		for _, field := range textFields {
			m := bleve.NewMatchPhraseQuery(Fold(*f.Text))
			m.SetField(field)
			should = append(should, m)
		}
		must = append(must, bleve.NewDisjunctionQuery(should...))
	}
	if len(must) == 0 {
		return bleve.NewMatchAllQuery()
	}
	return bleve.NewConjunctionQuery(must...)
}

func decodeRaw(v any) (*fengqiao.Event, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("bleve: stored event missing")
	}
	var e fengqiao.Event
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return nil, fmt.Errorf("bleve: stored event: %w", err)
	}
	return &e, nil
}
