package search

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"fengqiao"
)

// Elastic is the Index on an Elasticsearch cluster, for when one machine is
// outgrown: stateless hub replicas share one cluster. Text fields hold the grams
// the embedded index holds (textGrams), split by the whitespace analyzer, and
// text queries are the same phrases of grams, so both backends answer alike.
type Elastic struct {
	es    *elasticsearch.Client
	index string
}

var _ fengqiao.Index = (*Elastic)(nil)

// ElasticConfig reaches a cluster.
type ElasticConfig struct {
	// URLs of the cluster's nodes.
	URLs     []string `json:"urls"`
	Username string   `json:"username"`
	Password string   `json:"password"`
	// Index is the events index. Default "fengqiao-events".
	Index string `json:"index"`
	// Transport replaces the HTTP transport (tests pin requests with it).
	Transport http.RoundTripper `json:"-"`
}

// OpenElastic connects to a cluster and makes sure the index template and the
// index exist.
func OpenElastic(ctx context.Context, cfg ElasticConfig) (*Elastic, error) {
	if cfg.Index == "" {
		cfg.Index = "fengqiao-events"
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: cfg.URLs, Username: cfg.Username, Password: cfg.Password, Transport: cfg.Transport})
	if err != nil {
		return nil, err
	}
	e := &Elastic{es: es, index: cfg.Index}
	if err := e.call(ctx, esapi.IndicesPutIndexTemplateRequest{Name: cfg.Index, Body: jsonBody(e.template())}, nil); err != nil {
		return nil, fmt.Errorf("elasticsearch index template: %w", err)
	}
	res := map[string]any{}
	err = e.call(ctx, esapi.IndicesCreateRequest{Index: cfg.Index}, &res)
	switch {
	case err == nil:
		return e, nil
	case !strings.Contains(err.Error(), "resource_already_exists_exception"):
		return nil, fmt.Errorf("elasticsearch index: %w", err)
	}
	// The index was there: bring it to this version's fields.
	if err := e.call(ctx, esapi.IndicesPutMappingRequest{Index: []string{cfg.Index}, Body: jsonBody(map[string]any{"properties": properties()})}, nil); err != nil {
		return nil, fmt.Errorf("elasticsearch mapping: %w", err)
	}
	if err := e.reindexText(ctx); err != nil {
		return nil, fmt.Errorf("elasticsearch reindex: %w", err)
	}
	return e, nil
}

// reindexText indexes anew, from their stored events, the documents whose text
// was indexed in another format (by an older version), a thousand at a time.
// Replicas that start together do the same work twice, harmlessly.
func (e *Elastic) reindexText(ctx context.Context) error {
	stale := map[string]any{"bool": map[string]any{"must_not": []any{map[string]any{"term": map[string]any{fieldFormat: textFormat}}}}}
	for {
		res, err := e.search(ctx, map[string]any{"query": stale, "size": 1000, "_source": []string{fieldRaw}})
		if err != nil || len(res.Hits.Hits) == 0 {
			return err
		}
		var events []*fengqiao.Event
		for _, h := range res.Hits.Hits {
			ev, err := decodeRaw(h.Source.Raw)
			if err != nil {
				return err
			}
			events = append(events, ev)
		}
		if err := e.Upsert(ctx, events); err != nil {
			return err
		}
	}
}

// template is the index template: the same fields as the embedded index.
func (e *Elastic) template() map[string]any {
	return map[string]any{
		"index_patterns": []string{e.index},
		"template": map[string]any{
			"settings": map[string]any{"number_of_shards": 3, "max_result_window": fengqiao.MaxRankedResults + fengqiao.MaxPageSize + 1},
			// Grams are searched, never read back: the event is in raw.
			"mappings": map[string]any{"dynamic": "strict", "properties": properties(), "_source": map[string]any{"excludes": textFields}},
		},
	}
}

// properties maps the fields of an event document.
func properties() map[string]any {
	kw := map[string]any{"type": "keyword"}
	text := map[string]any{"type": "text", "analyzer": "whitespace"}
	props := map[string]any{
		fieldReportedAt: map[string]any{"type": "date"},
		fieldDeadline:   map[string]any{"type": "date"},
		fieldRaw:        map[string]any{"type": "text", "index": false},
	}
	for _, f := range []string{fieldSource, fieldKind, fieldStatus, fieldCategory, fieldOrgPath, fieldPartyIDs, fieldProject, fieldRefersTo, fieldSortKey, fieldIDs, fieldTown, fieldLevel, fieldOutcome, fieldFormat} {
		props[f] = kw
	}
	for _, f := range textFields {
		props[f] = text
	}
	return props
}

// Upsert implements fengqiao.Index: one bulk request, refreshed before it returns;
// items the cluster refuses are reported by id.
func (e *Elastic) Upsert(ctx context.Context, events []*fengqiao.Event) error {
	var body bytes.Buffer
	for _, ev := range events {
		doc, err := newDocument(ev)
		if err != nil {
			return err
		}
		action, _ := json.Marshal(map[string]any{"index": map[string]any{"_index": e.index, "_id": ev.ID}})
		source, _ := json.Marshal(doc)
		body.Write(action)
		body.WriteByte('\n')
		body.Write(source)
		body.WriteByte('\n')
	}
	return e.bulk(ctx, &body, len(events))
}

// Delete implements fengqiao.Index: one bulk request, refreshed before it returns.
func (e *Elastic) Delete(ctx context.Context, ids []string) error {
	var body bytes.Buffer
	for _, id := range ids {
		action, _ := json.Marshal(map[string]any{"delete": map[string]any{"_index": e.index, "_id": id}})
		body.Write(action)
		body.WriteByte('\n')
	}
	return e.bulk(ctx, &body, len(ids))
}

// bulk sends n actions in one bulk request and reports the items the cluster
// refused by id; deleting what it does not hold is no refusal.
func (e *Elastic) bulk(ctx context.Context, body *bytes.Buffer, n int) error {
	if n == 0 {
		return nil
	}
	var res struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			ID     string `json:"_id"`
			Status int    `json:"status"`
			Error  *struct {
				Type, Reason string
			} `json:"error"`
		} `json:"items"`
	}
	if err := e.call(ctx, esapi.BulkRequest{Body: body, Refresh: "wait_for"}, &res); err != nil {
		return err
	}
	if !res.Errors {
		return nil
	}
	var failed []string
	for _, item := range res.Items {
		for _, r := range item {
			if r.Error != nil {
				failed = append(failed, fmt.Sprintf("%s: %s: %s", r.ID, r.Error.Type, r.Error.Reason))
			}
		}
	}
	return fmt.Errorf("elasticsearch bulk: %d of %d items refused: %s", len(failed), n, strings.Join(failed, "; "))
}

// Get implements fengqiao.Index.
func (e *Elastic) Get(ctx context.Context, id string) (*fengqiao.Event, error) {
	return lookupOne(ctx, e, id)
}

// Lookup implements fengqiao.Index.
func (e *Elastic) Lookup(ctx context.Context, ids []string) (map[string]*fengqiao.Event, error) {
	found := map[string]*fengqiao.Event{}
	if len(ids) == 0 {
		return found, nil
	}
	res, err := e.search(ctx, map[string]any{"query": map[string]any{"ids": map[string]any{"values": ids}}, "size": len(ids), "_source": []string{fieldRaw}})
	if err != nil {
		return nil, err
	}
	for _, h := range res.Hits.Hits {
		ev, err := decodeRaw(h.Source.Raw)
		if err != nil {
			return nil, err
		}
		found[ev.ID] = ev
	}
	return found, nil
}

// Search implements fengqiao.Index. Newest-first pages use search_after on the
// sort key, so they go as deep as the index; ranked pages use from/size.
func (e *Elastic) Search(ctx context.Context, q fengqiao.EventQuery) (*fengqiao.EventPage, error) {
	if err := checkText(q.Filter); err != nil {
		return nil, err
	}
	after, err := decodeCursor(q.After)
	if err != nil {
		return nil, err
	}
	size := pageSize(q.First)
	body := map[string]any{"query": esQuery(q.Filter), "size": size + 1, "track_total_hits": true, "_source": []string{fieldRaw}}
	offset := 0
	if q.ByRelevance {
		if offset, err = rankOffset(after, size); err != nil {
			return nil, err
		}
		body["from"] = offset
		body["sort"] = []any{"_score", map[string]any{fieldSortKey: "desc"}}
	} else {
		body["sort"] = []any{map[string]any{fieldSortKey: "desc"}}
		if after != "" {
			body["search_after"] = []string{after}
		}
	}
	if size == 0 {
		body["size"] = 0
	}
	res, err := e.search(ctx, body)
	if err != nil {
		return nil, err
	}
	terms := textTerms(q.Filter)
	page := &fengqiao.EventPage{Total: res.Hits.Total.Value, HasNext: len(res.Hits.Hits) > size}
	for i, h := range res.Hits.Hits[:min(size, len(res.Hits.Hits))] {
		ev, err := decodeRaw(h.Source.Raw)
		if err != nil {
			return nil, err
		}
		page.Events = append(page.Events, ev)
		if q.ByRelevance {
			page.Cursors = append(page.Cursors, rankCursor(offset, i))
		} else {
			page.Cursors = append(page.Cursors, encodeCursor(sortKey(ev)))
		}
		page.Highlights = append(page.Highlights, highlights(terms, ev))
	}
	return page, nil
}

// Count implements fengqiao.Index.
func (e *Elastic) Count(ctx context.Context, f fengqiao.EventFilter) (int, error) {
	if err := checkText(f); err != nil {
		return 0, err
	}
	var res struct {
		Count int `json:"count"`
	}
	err := e.call(ctx, esapi.CountRequest{Index: []string{e.index}, Body: jsonBody(map[string]any{"query": esQuery(f)})}, &res)
	return res.Count, err
}

// Facets implements fengqiao.Index.
func (e *Elastic) Facets(ctx context.Context, f fengqiao.EventFilter) (*fengqiao.Facets, error) {
	if err := checkText(f); err != nil {
		return nil, err
	}
	aggs := map[string]any{}
	for _, field := range facetFields {
		aggs[field] = map[string]any{"terms": map[string]any{"field": field, "size": 50}}
	}
	res, err := e.search(ctx, map[string]any{"query": esQuery(f), "size": 0, "aggs": aggs})
	if err != nil {
		return nil, err
	}
	counts := func(field string) []fengqiao.FacetCount {
		var out []fengqiao.FacetCount
		for _, b := range res.Aggregations[field].Buckets {
			if b.Key != "" {
				out = append(out, fengqiao.FacetCount{Value: b.Key, Count: b.DocCount})
			}
		}
		sortFacets(out)
		return out
	}
	return facetsOf(counts), nil
}

// Close implements fengqiao.Index.
func (e *Elastic) Close() error { return nil }

// esQuery translates a filter into a bool query of filters (no scoring) and, for
// each term of the text, matches that rank.
func esQuery(f fengqiao.EventFilter) map[string]any {
	var filter []any
	terms := func(field string, values []string) {
		if len(values) > 0 {
			filter = append(filter, map[string]any{"terms": map[string]any{field: values}})
		}
	}
	terms(fieldSource, strs(f.Sources))
	terms(fieldKind, strs(f.Kinds))
	terms(fieldStatus, strs(f.Statuses))
	terms(fieldCategory, f.Categories)
	terms(fieldLevel, strs(f.HandlingLevels))
	terms(fieldOutcome, f.Outcomes)
	if f.DeadlineBefore != nil {
		filter = append(filter, map[string]any{"range": map[string]any{fieldDeadline: map[string]any{"lt": f.DeadlineBefore.UTC().Format(time.RFC3339Nano)}}})
	}
	for _, one := range []struct {
		field string
		value *string
	}{{fieldOrgPath, f.OrgCode}, {fieldPartyIDs, f.PartyID}, {fieldProject, f.ProjectCode}, {fieldRefersTo, f.RefersTo}} {
		if one.value != nil {
			terms(one.field, []string{*one.value})
		}
	}
	if f.Identifier != nil && *f.Identifier != "" {
		id := strings.TrimSpace(*f.Identifier)
		terms(fieldIDs, []string{strings.ToUpper(id), id})
	}
	if f.From != nil || f.To != nil {
		r := map[string]any{}
		if f.From != nil {
			r["gte"] = f.From.UTC().Format(time.RFC3339Nano)
		}
		if f.To != nil {
			r["lt"] = f.To.UTC().Format(time.RFC3339Nano)
		}
		filter = append(filter, map[string]any{"range": map[string]any{fieldReportedAt: r}})
	}
	b := map[string]any{}
	if len(filter) > 0 {
		b["filter"] = filter
	}
	var must []any
	for _, t := range textTerms(f) {
		// Each term, in any text field: a phrase of its grams, or for one character
		// the grams it begins.
		var should []any
		for _, field := range textFields {
			if len(t.Grams) == 0 {
				should = append(should, map[string]any{"prefix": map[string]any{field: t.Folded}})
			} else {
				should = append(should, map[string]any{"match_phrase": map[string]any{field: strings.Join(t.Grams, " ")}})
			}
		}
		must = append(must, map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}})
	}
	if len(must) > 0 {
		b["must"] = must
	}
	if len(b) == 0 {
		return map[string]any{"match_all": map[string]any{}}
	}
	return map[string]any{"bool": b}
}

type esSearchResult struct {
	Hits struct {
		Total struct {
			Value int `json:"value"`
		} `json:"total"`
		Hits []struct {
			Source struct {
				Raw string `json:"raw"`
			} `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
	Aggregations map[string]struct {
		Buckets []struct {
			Key      string `json:"key"`
			DocCount int    `json:"doc_count"`
		} `json:"buckets"`
	} `json:"aggregations"`
}

func (e *Elastic) search(ctx context.Context, body map[string]any) (*esSearchResult, error) {
	var res esSearchResult
	err := e.call(ctx, esapi.SearchRequest{Index: []string{e.index}, Body: jsonBody(body)}, &res)
	return &res, err
}

// call sends a request and decodes a 2xx answer into out; any other answer is an
// error carrying the cluster's reason.
func (e *Elastic) call(ctx context.Context, req esapi.Request, out any) error {
	res, err := req.Do(ctx, e.es)
	if err != nil {
		if ctx.Err() != nil {
			// The request ran out of time (or its caller left): not the cluster's fault.
			return fmt.Errorf("elasticsearch: %w", ctx.Err())
		}
		return fmt.Errorf("%w: %w", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "搜索集群不可用"), err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("elasticsearch: %w", ctx.Err())
	}
	if res.IsError() {
		return fmt.Errorf("%w: elasticsearch %s: %.500s", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "搜索集群拒绝请求"), res.Status(), body)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(body, out)
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}
