// Package search implements fengqiao.Index: embedded Bleve (the default, one
// directory on disk) and, for scale-out, Elasticsearch.
package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/whitespace"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"fengqiao"
)

// Bleve is the embedded index: one Bleve (scorch) directory on disk. Text fields
// hold grams (textGrams), split on whitespace; a text query is a phrase of grams.
type Bleve struct {
	index bleve.Index
	// Tests hook these around the Bleve searches that search runs.
	searchStarted, searchDone func()
}

var _ fengqiao.Index = (*Bleve)(nil)

// formatKey is the index's internal key for the textFormat of its documents.
var formatKey = []byte("fengqiao.textFormat")

// openConfig bounds the wait for the index's bolt file, which another process
// holds while it serves the index: an error after 5 seconds instead of a wait
// forever (the hub's lock on its data directory refuses such a start first).
var openConfig = map[string]any{"bolt_timeout": "5s"}

// OpenBleve opens the index in dir, creating it if dir does not hold one. An
// index whose text was indexed in another format is rebuilt first, once, from
// the events it stores.
func OpenBleve(dir string) (*Bleve, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		// A rebuild that stopped between its two renames left the index here.
		if err := os.Rename(dir+".old", dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	idx, err := bleve.OpenUsing(dir, openConfig)
	if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, err
		}
		idx, err = newBleveIndex(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("open bleve index %s: %w", dir, err)
	}
	format, err := idx.GetInternal(formatKey)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("open bleve index %s: %w", dir, err)
	}
	if string(format) != textFormat {
		if err := rebuild(idx, dir); err != nil {
			return nil, fmt.Errorf("rebuild bleve index %s: %w", dir, err)
		}
		if idx, err = bleve.OpenUsing(dir, openConfig); err != nil {
			return nil, fmt.Errorf("open bleve index %s: %w", dir, err)
		}
	}
	// A rebuild that stopped after its renames left the old index beside.
	if err := os.RemoveAll(dir + ".old"); err != nil {
		idx.Close()
		return nil, err
	}
	return &Bleve{index: idx}, nil
}

// newBleveIndex creates an empty index in dir.
func newBleveIndex(dir string) (bleve.Index, error) {
	idx, err := bleve.New(dir, eventMapping())
	if err == nil {
		err = idx.SetInternal(formatKey, []byte(textFormat))
	}
	return idx, err
}

// rebuild indexes the events stored in old anew, in a new index that then takes
// old's place in dir. It closes old.
func rebuild(old bleve.Index, dir string) error {
	tmp := dir + ".rebuild"
	if err := os.RemoveAll(tmp); err != nil {
		old.Close()
		return err
	}
	idx, err := newBleveIndex(tmp)
	if err != nil {
		old.Close()
		return err
	}
	err = copyEvents(&Bleve{index: old}, &Bleve{index: idx})
	if err := errors.Join(err, old.Close(), idx.Close()); err != nil {
		return err
	}
	if err := os.Rename(dir, dir+".old"); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// copyEvents upserts every event stored in from into to, a thousand at a time.
func copyEvents(from, to *Bleve) error {
	ctx := context.Background()
	return from.Scan(ctx, func(events []*fengqiao.Event) error { return to.Upsert(ctx, events) })
}

// Scan calls fn with every event the index holds, a thousand at a time, in no
// particular order (cockpit.Scanner).
func (b *Bleve) Scan(ctx context.Context, fn func([]*fengqiao.Event) error) error {
	adv, err := b.index.Advanced()
	if err != nil {
		return err
	}
	r, err := adv.Reader()
	if err != nil {
		return err
	}
	defer r.Close()
	ids, err := r.DocIDReaderAll()
	if err != nil {
		return err
	}
	defer ids.Close()
	var batch []string
	for {
		id, err := ids.Next()
		if err != nil {
			return err
		}
		if id != nil {
			ext, err := r.ExternalID(id)
			if err != nil {
				return err
			}
			batch = append(batch, ext)
		}
		if len(batch) == 1000 || id == nil && len(batch) > 0 {
			found, err := b.Lookup(ctx, batch)
			if err != nil {
				return err
			}
			if err := fn(slices.Collect(maps.Values(found))); err != nil {
				return err
			}
			batch = batch[:0]
		}
		if id == nil {
			return ctx.Err()
		}
	}
}

// eventMapping indexes the searchable fields of an event document; the event
// itself is stored whole as JSON in "raw". Only the fields that are faceted or
// sorted on keep doc values (each document's terms, column-wise): the text
// fields' grams would be the largest part of the index, of every segment built
// in memory during a sync and of every merge, for nothing.
func eventMapping() mapping.IndexMapping {
	kw := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store, f.IncludeInAll, f.DocValues = false, false, docValues
		return f
	}
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer, f.Store, f.IncludeInAll, f.IncludeTermVectors = gramsAnalyzer, false, false, true // phrases need term vectors
		f.DocValues = false
		return f
	}
	date := func() *mapping.FieldMapping {
		f := bleve.NewDateTimeFieldMapping()
		f.Store, f.IncludeInAll, f.DocValues = false, false, false
		return f
	}
	raw := bleve.NewTextFieldMapping()
	raw.Index, raw.Store, raw.IncludeInAll, raw.DocValues = false, true, false, false

	doc := bleve.NewDocumentStaticMapping()
	for _, name := range keywordFields {
		doc.AddFieldMappingsAt(name, kw(name == fieldSortKey || slices.Contains(facetFields, name)))
	}
	for _, name := range textFields {
		doc.AddFieldMappingsAt(name, text())
	}
	doc.AddFieldMappingsAt(fieldReportedAt, date())
	doc.AddFieldMappingsAt(fieldDeadline, date())
	doc.AddFieldMappingsAt(fieldRaw, raw)

	m := bleve.NewIndexMapping()
	if err := m.AddCustomAnalyzer(gramsAnalyzer, map[string]any{"type": custom.Name, "tokenizer": whitespace.Name}); err != nil {
		panic(err) // both are built in
	}
	m.DefaultMapping = doc
	m.DefaultAnalyzer = keyword.Name
	return m
}

// gramsAnalyzer splits text fields, which hold grams, on whitespace.
const gramsAnalyzer = "grams"

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

// Delete implements fengqiao.Index.
func (b *Bleve) Delete(ctx context.Context, ids []string) error {
	batch := b.index.NewBatch()
	for _, id := range ids {
		batch.Delete(id)
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
	if err := checkText(q.Filter); err != nil {
		return nil, err
	}
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
		page, err := pageOf(res, q.Filter, size, func(e *fengqiao.Event, _ int) string { return encodeCursor(sortKey(e)) })
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
	return pageOf(res, q.Filter, size, func(_ *fengqiao.Event, i int) string { return rankCursor(offset, i) })
}

// request asks for events matching f, with their stored form.
func (b *Bleve) request(f fengqiao.EventFilter, size int) *bleve.SearchRequest {
	req := bleve.NewSearchRequestOptions(bleveQuery(f), size, 0, false)
	req.Fields = []string{fieldRaw}
	return req
}

// pageOf turns hits into a page of at most size events, highlighted for the
// filter's text.
func pageOf(res *bleve.SearchResult, f fengqiao.EventFilter, size int, cursor func(*fengqiao.Event, int) string) (*fengqiao.EventPage, error) {
	terms := textTerms(f)
	page := &fengqiao.EventPage{Total: int(res.Total), HasNext: len(res.Hits) > size}
	for i, h := range res.Hits[:min(size, len(res.Hits))] {
		e, err := decodeRaw(h.Fields[fieldRaw])
		if err != nil {
			return nil, err
		}
		page.Events = append(page.Events, e)
		page.Cursors = append(page.Cursors, cursor(e, i))
		page.Highlights = append(page.Highlights, highlights(terms, e))
	}
	return page, nil
}

// Facets implements fengqiao.Index.
func (b *Bleve) Facets(ctx context.Context, f fengqiao.EventFilter) (*fengqiao.Facets, error) {
	if err := checkText(f); err != nil {
		return nil, err
	}
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
	if err := checkText(f); err != nil {
		return 0, err
	}
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
	anyTerm(fieldApp, f.Apps)
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
	for _, t := range textTerms(f) {
		// Each term, in any text field: a phrase of its grams, the gram itself, or
		// for one character the grams it begins.
		var should []query.Query
		for _, field := range textFields {
			var q interface {
				query.Query
				query.FieldableQuery
			}
			switch len(t.Grams) {
			case 0:
				q = bleve.NewPrefixQuery(t.Folded)
			case 1:
				q = bleve.NewTermQuery(t.Grams[0])
			default:
				q = bleve.NewPhraseQuery(t.Grams, field)
			}
			q.SetField(field)
			should = append(should, q)
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
