package manifest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/manifest"
	"fengqiao/connectors/manifests"
	"fengqiao/search"
	"fengqiao/tools/sim"
)

// TestFullPageWithoutTokenIsNotCaughtUp: an upstream that serves full pages
// without a next-page token (a manifest whose nextToken names the wrong field)
// leaves the connector not caught up, with the reason as its last error, which
// /healthz shows; one that says plainly there is no next page ("next": "") is
// caught up.
func TestFullPageWithoutTokenIsNotCaughtUp(t *testing.T) {
	t.Parallel()
	page := func(tail string) string {
		var recs []string
		for i := range 3 {
			recs = append(recs, fmt.Sprintf(`{"留言编号":"M%d","标题":"留言%d","时间":%d}`, i+1, i+1, 1793500000+i))
		}
		return `{"data":{"list":[` + strings.Join(recs, ",") + `]` + tail + `}}`
	}
	for _, tc := range []struct {
		name, tail, lastError string
		caughtUp              bool
	}{
		{"no token", `,"nextPageToken":"t2"`, "留言板返回了满页（3 条，pagination.size 为 3），但响应中没有下一页令牌 data.next", false},
		{"last page", `,"next":""`, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, page(tc.tail))
			}))
			defer srv.Close()
			r := openRunner(t, t.TempDir(), strings.Replace(tokenBoard, "http://127.0.0.1:9", srv.URL, 1))
			caughtUp, err := r.SyncBatch(context.Background(), r.Connectors()[0])
			if caughtUp != tc.caughtUp {
				t.Errorf("caught up %v (%v), want %v", caughtUp, err, tc.caughtUp)
			}
			if tc.lastError != "" && fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
				t.Errorf("error %v (%s), want EUNAVAILABLE", err, fengqiao.ErrorCode(err))
			}
			states, err := r.States()
			if err != nil {
				t.Fatal(err)
			}
			s := states[0]
			if s.CaughtUp != tc.caughtUp || !strings.Contains(s.LastError, tc.lastError) || (tc.lastError == "") != (s.LastError == "") {
				t.Fatalf("state caughtUp %v, lastError %q; want %v, %q", s.CaughtUp, s.LastError, tc.caughtUp, tc.lastError)
			}
		})
	}
}

// openRunner opens a runner syncing the manifest text into an index and a state
// in dir, as a hub process holds them; closing them (at the end of the test, or
// by the returned close, at most once) is the process ending.
func openRunner(t *testing.T, dir, text string) *connectors.Runner {
	t.Helper()
	r, _ := openRunnerClose(t, dir, text)
	return r
}

func openRunnerClose(t *testing.T, dir, text string) (*connectors.Runner, func()) {
	t.Helper()
	m, err := manifest.Parse("app.yaml", []byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Upstream = connectors.UpstreamConfig{RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond, Timeout: 2 * time.Second}
	idx, err := search.OpenBleve(filepath.Join(dir, "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := connectors.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closeAll := func() { once.Do(func() { idx.Close(); st.Close() }) }
	t.Cleanup(closeAll)
	r := &connectors.Runner{Tree: fengqiao.Wenling(), Index: idx, State: st}
	r.Add(manifest.New(m, nil))
	return r, closeAll
}

// syncState syncs the runner's one connector until it has caught up and returns
// its state.
func syncState(t *testing.T, r *connectors.Runner) fengqiao.ConnectorState {
	t.Helper()
	if err := r.SyncUntilCaughtUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	states, err := r.States()
	if err != nil {
		t.Fatal(err)
	}
	return states[0]
}

// recordsTotal reads fengqiao_connector_records_total of a connector and outcome.
func recordsTotal(t *testing.T, connector, outcome string) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "fengqiao_connector_records_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["connector"] == connector && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no fengqiao_connector_records_total{connector=%q,outcome=%q}", connector, outcome)
	return 0
}

// pageBoard is an app read by page paging with an inclusive updated-since filter.
const pageBoard = `name: NAME
title: 某应用
source: APP
baseURL: http://127.0.0.1:9
request: {path: /list}
pagination: {type: page, size: 10, pageParam: page, sizeParam: size}
incremental: {param: since, field: t, format: unix}
records: data
id: r.id
event:
  kind: '"REQUEST"'
  title: r.title
  reportedAt: parseTime(r.t, "unix")
  status: '"RECEIVED"'
  updatedAt: parseTime(r.t, "unix")
  orgCode: '"331081100010"'
`

// timeApp serves records with an inclusive "since" filter, in update order, one page.
type timeApp struct {
	mu   sync.Mutex
	recs []map[string]any
}

func (a *timeApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	since, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	out := []map[string]any{}
	for _, rec := range a.recs {
		if rec["t"].(int64) >= since {
			out = append(out, rec)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"data": out})
}

// TestAnUnchangedLastPageIsNotCountedAgain: the inclusive time cursor reads the
// last page again at every sync; its records, unchanged, are counted as
// unchanged, not as taken in again. A record that did change counts once more.
func TestAnUnchangedLastPageIsNotCountedAgain(t *testing.T) {
	t.Parallel()
	base := time.Now().Add(-time.Hour).Unix()
	app := &timeApp{}
	for i := range 3 {
		app.recs = append(app.recs, map[string]any{"id": fmt.Sprintf("U%d", i+1), "title": fmt.Sprintf("留言%d", i+1), "t": base + int64(i)})
	}
	srv := httptest.NewServer(app)
	defer srv.Close()
	r := openRunner(t, t.TempDir(), strings.NewReplacer("http://127.0.0.1:9", srv.URL, "NAME", "unchangedapp").Replace(pageBoard))

	if s := syncState(t, r); s.RecordsIn != 3 {
		t.Fatalf("first sync: recordsIn %d, want 3", s.RecordsIn)
	}
	for range 2 { // the last record is read again each time
		if s := syncState(t, r); s.RecordsIn != 3 {
			t.Fatalf("sync of an unchanged page: recordsIn %d, want still 3", s.RecordsIn)
		}
	}
	if got := recordsTotal(t, "unchangedapp", "indexed"); got != 3 {
		t.Errorf("records indexed %v, want 3", got)
	}
	if got := recordsTotal(t, "unchangedapp", "unchanged"); got != 2 {
		t.Errorf("records unchanged %v, want 2 (the last record, read again twice)", got)
	}

	app.mu.Lock()
	app.recs[2]["title"], app.recs[2]["t"] = "留言3（补充）", base+10
	app.mu.Unlock()
	if s := syncState(t, r); s.RecordsIn != 4 {
		t.Fatalf("after a change: recordsIn %d, want 4", s.RecordsIn)
	}
	if e := indexed(t, r)["U3"]; e == nil || e.Title != "留言3（补充）" {
		t.Fatalf("changed record: %+v", e)
	}
}

// indexed returns the events of the runner's index (up to a page), by source id.
func indexed(t *testing.T, r *connectors.Runner) map[string]*fengqiao.Event {
	t.Helper()
	page, err := r.Index.Search(context.Background(), fengqiao.EventQuery{First: fengqiao.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*fengqiao.Event{}
	for _, e := range page.Events {
		out[e.SourceID] = e
	}
	return out
}

// TestTokenPagingSendsItsPageSize: token paging asks for pagination.size records
// with every request, the first included, through sizeParam; the board's own page
// size (50) would otherwise decide what a full page is.
func TestTokenPagingSendsItsPageSize(t *testing.T) {
	t.Parallel()
	var rows []map[string]string
	for i := range 7 {
		rows = append(rows, map[string]string{"留言编号": fmt.Sprintf("LY%03d", i+1), "留言主题": fmt.Sprintf("留言%d", i+1),
			"留言详情": "内容", "留言时间": "2026-10-30 09:00:00", "留言用户": "U1"})
	}
	var mu sync.Mutex
	var sizes []string
	board := sim.NewMessageBoard(rows, 50).Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sizes = append(sizes, r.URL.Query().Get("pageSize"))
		mu.Unlock()
		board.ServeHTTP(w, r)
	}))
	defer srv.Close()
	text, err := manifests.Examples.ReadFile("examples/messageboard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := openRunner(t, t.TempDir(), strings.NewReplacer("${MESSAGEBOARD_URL}", srv.URL, "${MESSAGEBOARD_KEY}", "k",
		"size: 200", "size: 3", "name: messageboard", "name: tokensizes").Replace(string(text)))
	if s := syncState(t, r); s.RecordsIn != 7 || s.LastError != "" {
		t.Fatalf("recordsIn %d (%s), want 7", s.RecordsIn, s.LastError)
	}
	if got := strings.Join(sizes, ","); got != "3,3,3" {
		t.Fatalf("pageSize sent %q, want 3,3,3 (pages of 3, 3 and 1)", got)
	}
}

// idApp lists records with ids 1…n, in increasing id order, after the sinceId
// it is given, limit at a time; while failAt is set, a request from that id fails.
type idApp struct {
	n      int
	mu     sync.Mutex
	failAt string
	asked  []string // the sinceId of every request, "" for none
}

func (a *idApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	a.asked = append(a.asked, q.Get("sinceId"))
	fail := a.failAt != "" && q.Get("sinceId") == a.failAt
	a.mu.Unlock()
	if fail {
		http.Error(w, "维护中", http.StatusServiceUnavailable)
		return
	}
	since, _ := strconv.Atoi(q.Get("sinceId"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	out := []map[string]any{}
	for id := since + 1; id <= a.n && len(out) < limit; id++ {
		out = append(out, map[string]any{"id": id, "title": fmt.Sprintf("记录%d", id), "t": time.Now().Add(-time.Hour).Unix()})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"items": out})
}

// sinceIDApp is pageBoard read by sinceId paging.
var sinceIDApp = strings.NewReplacer(
	"pagination: {type: page, size: 10, pageParam: page, sizeParam: size}", "pagination: {type: sinceId, size: 10, idParam: sinceId, sizeParam: limit}",
	"incremental: {param: since, field: t, format: unix}\n", "", "records: data", "records: items").Replace(pageBoard)

// TestSinceIDPageNewestFirstIsAnError: an app that answers sinceId newest first
// would move the cursor past what it left for later pages; the sync stops with
// the reason (on /healthz as lastError), reading nothing, and connector check
// fails on such a page.
func TestSinceIDPageNewestFirstIsAnError(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(-time.Hour).Unix()
	body := fmt.Sprintf(`{"items": [{"id": 3, "title": "三", "t": %d}, {"id": 2, "title": "二", "t": %d}, {"id": 1, "title": "一", "t": %d}]}`, at, at, at)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	text := strings.NewReplacer("http://127.0.0.1:9", srv.URL, "NAME", "newestfirst").Replace(sinceIDApp)
	r := openRunner(t, t.TempDir(), text)
	const reason = "某应用的记录没有按编号递增排列（3 之后是 2）"
	caughtUp, err := r.SyncBatch(context.Background(), r.Connectors()[0])
	if caughtUp || fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
		t.Fatalf("caught up %v, err %v; want not caught up, EUNAVAILABLE", caughtUp, err)
	}
	states, _ := r.States()
	if s := states[0]; s.CaughtUp || !strings.Contains(s.LastError, reason) || s.RecordsIn != 0 || s.Cursor != "" {
		t.Fatalf("state %+v; want not caught up, lastError saying %q, nothing read", s, reason)
	}
	m, err := manifest.Parse("app.yaml", []byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := manifest.New(m, nil).JudgePage([]byte(body))
	if err != nil || len(j.Problems) != 1 || !strings.Contains(j.Problems[0], reason) {
		t.Fatalf("check: %+v, %v; want the problem %q", j, err, reason)
	}
}

// TestSinceIDCursorResumesAfterRestart: a sinceId app is read from the largest id
// read so far, compared as a number (10 after 9); a sync that fails midway keeps
// what it committed, and the hub started again resumes from the saved id, so
// every record is read, and counted, once.
func TestSinceIDCursorResumesAfterRestart(t *testing.T) {
	t.Parallel()
	app := &idApp{n: 25, failAt: "20"}
	srv := httptest.NewServer(app)
	defer srv.Close()
	text := strings.NewReplacer("http://127.0.0.1:9", srv.URL, "NAME", "sinceidapp").Replace(sinceIDApp)
	dir := t.TempDir()
	r, stop := openRunnerClose(t, dir, text)
	r.BatchRecords = 1 // each page a batch of its own, committed before the next is read
	if err := r.SyncUntilCaughtUp(context.Background()); fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
		t.Fatalf("sync with the app failing at sinceId=20: %v, want EUNAVAILABLE", err)
	}
	states, _ := r.States()
	if states[0].Cursor != `{"afterId":"20"}` || states[0].RecordsIn != 20 {
		t.Fatalf("after the failure: cursor %s, recordsIn %d; want afterId 20 and 20", states[0].Cursor, states[0].RecordsIn)
	}
	stop() // the hub stops

	app.mu.Lock()
	app.failAt, app.asked = "", nil
	app.mu.Unlock()
	r = openRunner(t, dir, text)
	s := syncState(t, r)
	if s.RecordsIn != 25 || s.Cursor != `{"afterId":"25"}` {
		t.Fatalf("after restart: recordsIn %d, cursor %s; want 25 and afterId 25", s.RecordsIn, s.Cursor)
	}
	if got := strings.Join(app.asked, ","); got != "20" {
		t.Fatalf("requests after restart asked sinceId %q, want 20 (one page of 5, not full)", got)
	}
	if n := len(indexed(t, r)); n != 25 {
		t.Fatalf("%d records indexed, want 25", n)
	}
}

// TestAnAppFromOutsideTheCountyPlacesByItsDefaultUnit: records with no org code
// and addresses the county's gazetteer cannot resolve are quarantined, unless the
// manifest declares a default unit; then they are placed there, and a record
// whose address names a village is still placed at the village.
func TestAnAppFromOutsideTheCountyPlacesByItsDefaultUnit(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(-time.Hour).Unix()
	app := &timeApp{recs: []map[string]any{
		{"id": "W1", "title": "文三路噪音", "addr": "杭州市西湖区文三路 90 号", "t": at},
		{"id": "W2", "title": "外地游客求助", "addr": "", "t": at},
		{"id": "W3", "title": "泽国镇路灯", "addr": "温岭市泽国镇腾蛟社区", "t": at},
	}}
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close) // after the parallel subtests
	for _, tc := range []struct {
		name, defaultUnit string
		places            map[string]string // source id → org code; missing: quarantined
	}{
		{"without", "", map[string]string{"W3": "331081100020"}},
		{"with", "defaultOrgCode: \"331081\"\n", map[string]string{"W1": "331081", "W2": "331081", "W3": "331081100020"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := "outside" + tc.name
			r := openRunner(t, t.TempDir(), strings.NewReplacer("http://127.0.0.1:9", srv.URL, "NAME", name,
				"  orgCode: '\"331081100010\"'\n", "  address: r.addr\n", "records: data\n", "records: data\n"+tc.defaultUnit).Replace(pageBoard))
			s := syncState(t, r)
			got := map[string]string{}
			for id, e := range indexed(t, r) {
				got[id] = e.OrgCode
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.places) || s.Quarantined != 3-len(tc.places) {
				t.Fatalf("placed %v, %d quarantined; want %v", got, s.Quarantined, tc.places)
			}
			q, _ := r.Quarantine(name)
			for _, rej := range q {
				if rej.Reason != "无法确定所属区域" {
					t.Errorf("quarantined %s: %q, want 无法确定所属区域", rej.SourceID, rej.Reason)
				}
			}
		})
	}
}
