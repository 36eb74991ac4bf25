package search

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"fengqiao"
)

// Elastic is the Index on an Elasticsearch cluster, for when one machine is
// outgrown: stateless hub replicas share one cluster. Text fields hold the grams
// the embedded index holds (textGrams), split by the whitespace analyzer, and
// text queries are the same phrases of grams, so both backends answer alike.
//
// Events are partitioned by the year they were reported (China time): one index
// per year, "<alias>-2026", all behind the alias. A query bounded in time reads
// only the years it spans; retention drops whole years.
type Elastic struct {
	es    *elasticsearch.Client
	alias string

	mu         sync.Mutex
	partitions map[string]bool // the year indexes known to be behind the alias
}

var _ fengqiao.Index = (*Elastic)(nil)

// ElasticConfig reaches a cluster.
type ElasticConfig struct {
	// URLs of the cluster's nodes.
	URLs     []string `json:"urls"`
	Username string   `json:"username"`
	Password string   `json:"password"`
	// Index is the alias every year's index is behind. Default "fengqiao-events".
	Index string `json:"index"`
	// Transport replaces the HTTP transport (tests pin requests with it).
	Transport http.RoundTripper `json:"-"`
}

// OpenElastic connects to a cluster, makes sure the index template is this
// version's, and brings what the cluster holds to this version: a single index
// of an older version is moved into year partitions behind an alias of its name,
// and partitions with older fields get this version's.
func OpenElastic(ctx context.Context, cfg ElasticConfig) (*Elastic, error) {
	if cfg.Index == "" {
		cfg.Index = "fengqiao-events"
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: cfg.URLs, Username: cfg.Username, Password: cfg.Password, Transport: cfg.Transport})
	if err != nil {
		return nil, err
	}
	e := &Elastic{es: es, alias: cfg.Index, partitions: map[string]bool{}}
	if err := e.call(ctx, esapi.IndicesPutIndexTemplateRequest{Name: cfg.Index, Body: jsonBody(e.template())}, nil); err != nil {
		return nil, fmt.Errorf("elasticsearch index template: %w", err)
	}
	var aliased map[string]any
	status, err := e.do(ctx, esapi.IndicesGetAliasRequest{Name: []string{cfg.Index}}, &aliased)
	switch {
	case status == http.StatusNotFound:
		if err := e.moveLegacyIndex(ctx); err != nil {
			return nil, fmt.Errorf("elasticsearch: moving the index %s into year partitions: %w", cfg.Index, err)
		}
	case err != nil:
		return nil, fmt.Errorf("elasticsearch alias: %w", err)
	default:
		for index := range aliased {
			e.partitions[index] = true
		}
	}
	if len(e.partitions) == 0 {
		return e, nil
	}
	// Partitions made by an older version: this version's fields, and their
	// events indexed anew from their stored form.
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
		res, err := e.search(ctx, []string{e.alias}, map[string]any{"query": stale, "size": 1000, "_source": []string{fieldRaw}})
		if err != nil || len(res.Hits.Hits) == 0 {
			return err
		}
		events, err := res.events()
		if err != nil {
			return err
		}
		if err := e.Upsert(ctx, events); err != nil {
			return err
		}
	}
}

// partition is the index of the year t falls in, China time.
func (e *Elastic) partition(t time.Time) string {
	return fmt.Sprintf("%s-%04d", e.alias, t.In(fengqiao.CST).Year())
}

// maxTargetedYears bounds the partitions a query names one by one; a longer
// span reads the alias.
const maxTargetedYears = 10

// targets are the indexes a filter can match: the year partitions its reported
// range spans when it has both ends, else the alias.
func (e *Elastic) targets(f fengqiao.EventFilter) []string {
	if f.From == nil || f.To == nil {
		return []string{e.alias}
	}
	first, last := f.From.In(fengqiao.CST).Year(), f.To.Add(-time.Nanosecond).In(fengqiao.CST).Year()
	if last < first {
		last = first
	}
	if last-first >= maxTargetedYears {
		return []string{e.alias}
	}
	var names []string
	for y := first; y <= last; y++ {
		names = append(names, fmt.Sprintf("%s-%04d", e.alias, y))
	}
	return names
}

// ensurePartitions creates the year indexes not known yet, each behind the alias
// (or, while a legacy index holds the alias's name, not yet: aliased false).
func (e *Elastic) ensurePartitions(ctx context.Context, names []string, aliased bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, name := range names {
		if e.partitions[name] {
			continue
		}
		body := map[string]any{}
		if aliased {
			body["aliases"] = map[string]any{e.alias: map[string]any{}}
		}
		err := e.call(ctx, esapi.IndicesCreateRequest{Index: name, Body: jsonBody(body)}, nil)
		if err != nil && !strings.Contains(err.Error(), "resource_already_exists_exception") {
			return fmt.Errorf("elasticsearch partition %s: %w", name, err)
		}
		e.partitions[name] = true
	}
	return nil
}

// moveLegacyIndex moves the events of a single index an older version made under
// the alias's name, if there is one, into year partitions, then puts the alias
// in its place in one atomic step. Stopped half way, it starts over next time:
// the legacy index goes only in that last step.
func (e *Elastic) moveLegacyIndex(ctx context.Context) error {
	status, err := e.do(ctx, esapi.IndicesExistsRequest{Index: []string{e.alias}}, nil)
	switch {
	case status == http.StatusNotFound:
		return nil // a new cluster: partitions come with the first events
	case err != nil:
		return err
	}
	err = e.scan(ctx, e.alias, func(events []*fengqiao.Event) error {
		return e.index(ctx, events, false)
	})
	if err != nil {
		return err
	}
	actions := []any{}
	for name := range e.partitions {
		actions = append(actions, map[string]any{"add": map[string]any{"index": name, "alias": e.alias}})
	}
	slices.SortFunc(actions, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	actions = append(actions, map[string]any{"remove_index": map[string]any{"index": e.alias}})
	return e.call(ctx, esapi.IndicesUpdateAliasesRequest{Body: jsonBody(map[string]any{"actions": actions})}, nil)
}

// Scan reads every event behind the alias, a thousand at a time, newest first
// (cockpit.Scanner).
func (e *Elastic) Scan(ctx context.Context, fn func([]*fengqiao.Event) error) error {
	return e.scan(ctx, e.alias, fn)
}

// scan pages through index newest first by sort key.
func (e *Elastic) scan(ctx context.Context, index string, fn func([]*fengqiao.Event) error) error {
	var after []string
	for {
		body := map[string]any{"query": map[string]any{"match_all": map[string]any{}}, "size": 1000, "_source": []string{fieldRaw}, "sort": []any{map[string]any{fieldSortKey: "desc"}}}
		if after != nil {
			body["search_after"] = after
		}
		res, err := e.search(ctx, []string{index}, body)
		if err != nil || len(res.Hits.Hits) == 0 {
			return err
		}
		events, err := res.events()
		if err != nil {
			return err
		}
		if err := fn(events); err != nil {
			return err
		}
		after = []string{sortKey(events[len(events)-1])}
	}
}

// template is the index template: the same fields as the embedded index.
func (e *Elastic) template() map[string]any {
	return map[string]any{
		"index_patterns": []string{e.alias + "-*"},
		"template": map[string]any{
			// A year of a county is a few million events: one shard holds it.
			"settings": map[string]any{"number_of_shards": 1, "max_result_window": fengqiao.MaxRankedResults + fengqiao.MaxPageSize + 1},
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
	for _, f := range append(keywordFields, fieldFormat) {
		props[f] = kw
	}
	for _, f := range textFields {
		props[f] = text
	}
	return props
}

// Upsert implements fengqiao.Index: one bulk request into the events' year
// partitions, refreshed before it returns; items the cluster refuses are
// reported by id. An event stays in the year it was first reported in: upstreams
// do not move the time a matter was reported.
func (e *Elastic) Upsert(ctx context.Context, events []*fengqiao.Event) error {
	return e.index(ctx, events, true)
}

func (e *Elastic) index(ctx context.Context, events []*fengqiao.Event, aliased bool) error {
	var body bytes.Buffer
	var names []string
	for _, ev := range events {
		doc, err := newDocument(ev)
		if err != nil {
			return err
		}
		name := e.partition(ev.ReportedAt)
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		action, _ := json.Marshal(map[string]any{"index": map[string]any{"_index": name, "_id": ev.ID}})
		source, _ := json.Marshal(doc)
		body.Write(action)
		body.WriteByte('\n')
		body.Write(source)
		body.WriteByte('\n')
	}
	if err := e.ensurePartitions(ctx, names, aliased); err != nil {
		return err
	}
	return e.bulk(ctx, &body, len(events))
}

// Delete implements fengqiao.Index: one delete by query over every partition,
// refreshed before it returns.
func (e *Elastic) Delete(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	body := map[string]any{"query": map[string]any{"ids": map[string]any{"values": ids}}}
	return e.call(ctx, esapi.DeleteByQueryRequest{Index: []string{e.alias}, Body: jsonBody(body), Refresh: esapi.BoolPtr(true), Conflicts: "proceed"}, nil)
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
	res, err := e.search(ctx, []string{e.alias}, map[string]any{"query": map[string]any{"ids": map[string]any{"values": ids}}, "size": len(ids), "_source": []string{fieldRaw}})
	if err != nil {
		return nil, err
	}
	events, err := res.events()
	for _, ev := range events {
		found[ev.ID] = ev
	}
	return found, err
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
	res, err := e.search(ctx, e.targets(q.Filter), body)
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
	err := e.call(ctx, esapi.CountRequest{Index: e.targets(f), Body: jsonBody(map[string]any{"query": esQuery(f)}), IgnoreUnavailable: esapi.BoolPtr(true), AllowNoIndices: esapi.BoolPtr(true)}, &res)
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
	res, err := e.search(ctx, e.targets(f), map[string]any{"query": esQuery(f), "size": 0, "aggs": aggs})
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
	terms(fieldApp, f.Apps)
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

// search runs a search over indexes, of which a year not made yet is no error.
func (e *Elastic) search(ctx context.Context, indexes []string, body map[string]any) (*esSearchResult, error) {
	var res esSearchResult
	err := e.call(ctx, esapi.SearchRequest{Index: indexes, Body: jsonBody(body), IgnoreUnavailable: esapi.BoolPtr(true), AllowNoIndices: esapi.BoolPtr(true)}, &res)
	return &res, err
}

// events decodes the stored events of the hits.
func (r *esSearchResult) events() ([]*fengqiao.Event, error) {
	events := make([]*fengqiao.Event, 0, len(r.Hits.Hits))
	for _, h := range r.Hits.Hits {
		ev, err := decodeRaw(h.Source.Raw)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

// call sends a request and decodes a 2xx answer into out; any other answer is an
// error carrying the cluster's reason.
func (e *Elastic) call(ctx context.Context, req esapi.Request, out any) error {
	_, err := e.do(ctx, req, out)
	return err
}

// do is call that also tells the answer's status (0 when there was none).
func (e *Elastic) do(ctx context.Context, req esapi.Request, out any) (int, error) {
	res, err := req.Do(ctx, e.es)
	if err != nil {
		if ctx.Err() != nil {
			// The request ran out of time (or its caller left): not the cluster's fault.
			return 0, fmt.Errorf("elasticsearch: %w", ctx.Err())
		}
		return 0, fmt.Errorf("%w: %w", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "搜索集群不可用"), err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil && ctx.Err() != nil {
		return res.StatusCode, fmt.Errorf("elasticsearch: %w", ctx.Err())
	}
	if res.IsError() {
		return res.StatusCode, fmt.Errorf("%w: elasticsearch %s: %.500s", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "搜索集群拒绝请求"), res.Status(), body)
	}
	if out == nil || len(body) == 0 {
		return res.StatusCode, nil
	}
	return res.StatusCode, json.Unmarshal(body, out)
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}
