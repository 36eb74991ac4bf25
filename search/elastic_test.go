package search_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/search"
	"fengqiao/search/indextest"
)

var update = flag.Bool("update", false, "rewrite the golden request files")

// recorder is a cluster that records each request and answers from a script.
type recorder struct {
	opening  []recorded // the requests of OpenElastic (openRecorded)
	requests []recorded
	answers  []string // one per request, in order; "" answers {}; "400 {…}" answers with that status
}

type recorded struct {
	Method, Path, Query string
	Body                string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	r.requests = append(r.requests, recorded{req.Method, req.URL.Path, req.URL.RawQuery, string(body)})
	answer, status := "{}", 200
	if n := len(r.requests) - 1; n < len(r.answers) && r.answers[n] != "" {
		answer = r.answers[n]
	}
	if code, rest, ok := strings.Cut(answer, " "); ok && len(code) == 3 {
		fmt.Sscan(code, &status)
		answer = rest
	}
	h := http.Header{"Content-Type": {"application/json"}, "X-Elastic-Product": {"Elasticsearch"}}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(answer)), Request: req}, nil
}

// golden compares a request with testdata/elastic/name, which -update rewrites.
// Bodies are compared as JSON (NDJSON line by line), so formatting does not count.
func golden(t *testing.T, name string, got recorded) {
	t.Helper()
	text := got.Method + " " + got.Path + "?" + got.Query + "\n" + indentBody(got.Body)
	path := filepath.Join("testdata", "elastic", name)
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./search -run Elastic -update to write it)", err)
	}
	if string(want) != text {
		t.Errorf("request %s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, text, want)
	}
}

func indentBody(body string) string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		var v any
		if json.Unmarshal([]byte(line), &v) != nil {
			out = append(out, line)
			continue
		}
		b, _ := json.MarshalIndent(v, "", "  ")
		out = append(out, string(b))
	}
	return strings.Join(out, "\n") + "\n"
}

// openRecorded opens the index on a new cluster (no alias, no legacy index) and
// forgets the opening requests: requests then holds what follows, answered by
// answers in order.
func openRecorded(t *testing.T, answers ...string) (*search.Elastic, *recorder) {
	t.Helper()
	rec := &recorder{answers: append([]string{"", `404 {"error":"alias [fengqiao-events] missing","status":404}`, "404 "}, answers...)}
	e, err := search.OpenElastic(context.Background(), search.ElasticConfig{URLs: []string{"http://es.invalid:9200"}, Index: "fengqiao-events", Transport: rec})
	if err != nil {
		t.Fatal(err)
	}
	rec.opening, rec.requests, rec.answers = rec.requests, nil, rec.answers[len(rec.requests):]
	return e, rec
}

var goldenAt = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

func goldenEvent() *fengqiao.Event {
	return &fengqiao.Event{ID: "MEDIATION:TJ1", Source: fengqiao.SourceMediation, SourceID: "TJ1", Kind: fengqiao.KindDispute,
		Title: "拖欠工資糾紛", Content: "工地拖欠工资", Category: "劳资纠纷", OccurredAt: goldenAt, ReportedAt: goldenAt, UpdatedAt: goldenAt,
		Status: fengqiao.StatusInProgress, OrgCode: "331081100010001", Address: "温岭市泽国镇楼下社区锦绣花园",
		Parties: []fengqiao.Party{{Role: "申请人", Person: fengqiao.NewPerson("陈建国", "331081198001019012", "13800001111", "")}}}
}

func TestElasticRequestsArePinned(t *testing.T) {
	ctx := context.Background()
	e, rec := openRecorded(t)
	golden(t, "template.txt", rec.opening[0])
	golden(t, "alias.txt", rec.opening[1])

	// Bulk indexing makes the year's partition behind the alias first, and
	// reports each refused item by id.
	e, rec = openRecorded(t, "", `{"errors":true,"items":[{"index":{"_id":"MEDIATION:TJ1","status":201}},{"index":{"_id":"MEDIATION:TJ2","status":400,"error":{"type":"mapper_parsing_exception","reason":"bad date"}}}]}`)
	second := goldenEvent()
	second.ID, second.SourceID = "MEDIATION:TJ2", "TJ2"
	err := e.Upsert(ctx, []*fengqiao.Event{goldenEvent(), second})
	if err == nil || !strings.Contains(err.Error(), "MEDIATION:TJ2: mapper_parsing_exception: bad date") || strings.Contains(err.Error(), "TJ1:") {
		t.Fatalf("bulk error = %v", err)
	}
	golden(t, "partition.txt", rec.requests[0])
	golden(t, "bulk.txt", rec.requests[1])
	if err := e.Upsert(ctx, []*fengqiao.Event{goldenEvent()}); len(rec.requests) != 3 || !strings.HasSuffix(rec.requests[2].Path, "/_bulk") {
		t.Fatalf("a second upsert into a known year: %v, requests %+v", err, rec.requests)
	}

	e, rec = openRecorded(t)
	if err := e.Delete(ctx, []string{"MEDIATION:TJ1", "MEDIATION:TJ2"}); err != nil {
		t.Fatal(err)
	}
	golden(t, "delete.txt", rec.requests[0])

	// A filtered, newest-first page after a cursor.
	raw, _ := json.Marshal(goldenEvent())
	hit, _ := json.Marshal(map[string]any{"_source": map[string]string{"raw": string(raw)}})
	e, rec = openRecorded(t, fmt.Sprintf(`{"hits":{"total":{"value":42},"hits":[%s,%s]}}`, hit, hit))
	org, text, from := "331081100", "工資", goldenAt.Add(-24*time.Hour)
	first, err := e.Search(ctx, fengqiao.EventQuery{First: 1, Filter: fengqiao.EventFilter{Sources: []fengqiao.Source{fengqiao.SourceMediation}, OrgCode: &org, Text: &text, From: &from}})
	if err != nil {
		t.Fatal(err)
	}
	if first.Total != 42 || len(first.Events) != 1 || !first.HasNext || first.Events[0].ID != "MEDIATION:TJ1" ||
		fmt.Sprint(first.Highlights) != "[[拖欠<mark>工資</mark>糾紛 工地拖欠<mark>工资</mark>]]" {
		t.Fatalf("page = %+v, want the title highlighted as written", first)
	}
	golden(t, "search_newest.txt", rec.requests[0])
	e, rec = openRecorded(t, `{"hits":{"total":{"value":0},"hits":[]}}`)
	if _, err := e.Search(ctx, fengqiao.EventQuery{First: 20, After: first.Cursors[0]}); err != nil {
		t.Fatal(err)
	}
	golden(t, "search_after.txt", rec.requests[0])

	// Ranked, with an identifier filter.
	id := "331081198001019012"
	e, rec = openRecorded(t, `{"hits":{"total":{"value":0},"hits":[]}}`)
	if _, err := e.Search(ctx, fengqiao.EventQuery{First: 10, ByRelevance: true, Filter: fengqiao.EventFilter{Text: &text, Identifier: &id}}); err != nil {
		t.Fatal(err)
	}
	golden(t, "search_ranked.txt", rec.requests[0])

	// Facets as aggregations.
	e, rec = openRecorded(t, `{"aggregations":{"source":{"buckets":[{"key":"MEDIATION","doc_count":3},{"key":"HOTLINE_12345","doc_count":5}]},"category":{"buckets":[]},"town":{"buckets":[{"key":"331081100","doc_count":8}]}}}`)
	facets, err := e.Facets(ctx, fengqiao.EventFilter{OrgCode: &org})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(facets.Sources) != "[{HOTLINE_12345 5} {MEDIATION 3}]" || fmt.Sprint(facets.Towns) != "[{331081100 8}]" {
		t.Fatalf("facets = %+v", facets)
	}
	golden(t, "facets.txt", rec.requests[0])

	// A count bounded in time reads only the years it spans (China time).
	e, rec = openRecorded(t, `{"count":7}`)
	winterFrom, winterTo := time.Date(2025, 12, 1, 0, 0, 0, 0, fengqiao.CST), time.Date(2026, 2, 1, 0, 0, 0, 0, fengqiao.CST)
	if n, err := e.Count(ctx, fengqiao.EventFilter{Statuses: []fengqiao.EventStatus{fengqiao.StatusResolved}, From: &winterFrom, To: &winterTo}); err != nil || n != 7 {
		t.Fatalf("count = %d, %v", n, err)
	}
	golden(t, "count.txt", rec.requests[0])

	e, rec = openRecorded(t, fmt.Sprintf(`{"hits":{"total":{"value":1},"hits":[%s]}}`, hit))
	if got, err := e.Get(ctx, "MEDIATION:TJ1"); err != nil || got.Title != "拖欠工資糾紛" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	golden(t, "lookup.txt", rec.requests[0])
}

// TestElasticHighlightsAreEscaped: the hub highlights the events the cluster
// returns (the cluster is asked for none), escaping a citizen's markup.
func TestElasticHighlightsAreEscaped(t *testing.T) {
	t.Parallel()
	ev := goldenEvent()
	ev.Title = `拖欠工资<img src=x onerror="alert(1)">`
	raw, _ := json.Marshal(ev)
	hit, _ := json.Marshal(map[string]any{"_source": map[string]string{"raw": string(raw)}})
	e, rec := openRecorded(t, fmt.Sprintf(`{"hits":{"total":{"value":1},"hits":[%s]}}`, hit))
	text := "工资"
	page, err := e.Search(context.Background(), fengqiao.EventQuery{First: 10, Filter: fengqiao.EventFilter{Text: &text}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "拖欠<mark>工资</mark>&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"; page.Highlights[0][0] != want {
		t.Errorf("highlight = %q, want %q", page.Highlights[0][0], want)
	}
	if strings.Contains(rec.requests[0].Body, "highlight") {
		t.Errorf("search %s asks the cluster for highlights", rec.requests[0].Body)
	}
}

// TestElasticUpgradesAnOlderIndex: partitions made by an older version get this
// version's fields, and their events are indexed anew from their stored form.
func TestElasticUpgradesAnOlderIndex(t *testing.T) {
	t.Parallel()
	raw, _ := json.Marshal(goldenEvent())
	hit, _ := json.Marshal(map[string]any{"_source": map[string]string{"raw": string(raw)}})
	rec := &recorder{answers: []string{"",
		`{"fengqiao-events-2026":{"aliases":{"fengqiao-events":{}}}}`,
		"",
		fmt.Sprintf(`{"hits":{"total":{"value":1},"hits":[%s]}}`, hit),
		`{"errors":false}`,
		`{"hits":{"total":{"value":0},"hits":[]}}`,
	}}
	if _, err := search.OpenElastic(context.Background(), search.ElasticConfig{URLs: []string{"http://es.invalid:9200"}, Index: "fengqiao-events", Transport: rec}); err != nil {
		t.Fatal(err)
	}
	if len(rec.requests) != 6 {
		t.Fatalf("%d requests, want template, alias, mapping, stale search, bulk (into the known partition), stale search", len(rec.requests))
	}
	golden(t, "upgrade_mapping.txt", rec.requests[2])
	golden(t, "upgrade_stale.txt", rec.requests[3])
	golden(t, "upgrade_bulk.txt", rec.requests[4])
}

// TestElasticMovesASingleIndexIntoYears: the single index an older version made
// under the alias's name is read through, its events go into year partitions,
// and the alias takes its place in one atomic step.
func TestElasticMovesASingleIndexIntoYears(t *testing.T) {
	t.Parallel()
	old := goldenEvent()
	older := goldenEvent()
	older.ID, older.SourceID, older.ReportedAt = "MEDIATION:TJ0", "TJ0", time.Date(2024, 12, 31, 17, 0, 0, 0, time.UTC) // 2025-01-01 01:00 China time
	var hits []string
	for _, ev := range []*fengqiao.Event{old, older} {
		raw, _ := json.Marshal(ev)
		hit, _ := json.Marshal(map[string]any{"_source": map[string]string{"raw": string(raw)}})
		hits = append(hits, string(hit))
	}
	rec := &recorder{answers: []string{"",
		`404 {"error":"alias [fengqiao-events] missing","status":404}`,
		"200 ",
		fmt.Sprintf(`{"hits":{"total":{"value":2},"hits":[%s]}}`, strings.Join(hits, ",")),
		"", "", `{"errors":false}`,
		`{"hits":{"total":{"value":2},"hits":[]}}`,
		"",
		"", `{"hits":{"total":{"value":0},"hits":[]}}`,
	}}
	if _, err := search.OpenElastic(context.Background(), search.ElasticConfig{URLs: []string{"http://es.invalid:9200"}, Index: "fengqiao-events", Transport: rec}); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range rec.requests {
		paths = append(paths, r.Method+" "+r.Path)
	}
	want := "[PUT /_index_template/fengqiao-events GET /_alias/fengqiao-events HEAD /fengqiao-events POST /fengqiao-events/_search " +
		"PUT /fengqiao-events-2026 PUT /fengqiao-events-2025 POST /_bulk POST /fengqiao-events/_search POST /_aliases " +
		"PUT /fengqiao-events/_mapping POST /fengqiao-events/_search]"
	if fmt.Sprint(paths) != want {
		t.Fatalf("requests\n%v\nwant\n%v", paths, want)
	}
	golden(t, "legacy_scan_after.txt", rec.requests[7])
	golden(t, "legacy_partition.txt", rec.requests[4])
	golden(t, "legacy_bulk.txt", rec.requests[6])
	golden(t, "legacy_aliases.txt", rec.requests[8])
}

// TestElasticConformance runs the suite every Index passes against a real
// cluster, when ELASTICSEARCH_URL names one.
func TestElasticConformance(t *testing.T) {
	url := os.Getenv("ELASTICSEARCH_URL")
	if url == "" {
		t.Skip("ELASTICSEARCH_URL is not set: no cluster to run against")
	}
	var n atomic.Int64
	indextest.Exercise(t, func(t *testing.T) fengqiao.Index {
		t.Helper()
		name := fmt.Sprintf("fengqiao-test-%d-%d", time.Now().UnixNano(), n.Add(1))
		e, err := search.OpenElastic(context.Background(), search.ElasticConfig{URLs: []string{url}, Index: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			req, _ := http.NewRequest(http.MethodDelete, url+"/"+name+"-*", bytes.NewReader(nil)) // every year partition
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		})
		return e
	})
}
