package manifest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/manifest"
	"fengqiao/search"
)

// namespacedApp is a long-tail app whose records are numbered like every other
// app's: M1, M2, M3.
const namespacedApp = `name: %s
title: %s
source: APP
baseURL: %s
request: {path: /list}
pagination: {type: token, size: 10, tokenParam: pageToken, nextToken: next}
records: list
id: r.no
event:
  kind: '"REQUEST"'
  title: r.title
  orgCode: '"331081100"'
  reportedAt: parseTime(r.at, "unix")
  status: '"RECEIVED"'
  updatedAt: parseTime(r.at, "unix")
`

// TestAppsAreNamespaces: two apps whose records carry the same numbers are two
// sets of events, ids "<app>:<number>", each counted under its own app; before,
// every app shared source APP and the second overwrote the first.
func TestAppsAreNamespaces(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var recs []string
		for i := range 3 {
			recs = append(recs, fmt.Sprintf(`{"no":"M%d","title":"留言%d","at":%d}`, i+1, i+1, 1793500000+i))
		}
		fmt.Fprint(w, `{"list":[`+strings.Join(recs, ",")+`],"next":""}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	idx, err := search.OpenBleve(filepath.Join(dir, "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := connectors.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close(); st.Close() })
	r := &connectors.Runner{Tree: fengqiao.Wenling(), Index: idx, State: st}
	for _, app := range [][2]string{{"board", "市长信箱"}, {"mailbox", "书记留言板"}} {
		m, err := manifest.Parse(app[0]+".yaml", fmt.Appendf(nil, namespacedApp, app[0], app[1], srv.URL), nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Add(manifest.New(m, nil))
	}
	ctx := context.Background()
	for _, c := range r.Connectors() {
		if _, err := r.SyncBatch(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := idx.Count(ctx, fengqiao.EventFilter{}); n != 6 || err != nil {
		t.Fatalf("two apps of three records each: %d events (%v), want 6", n, err)
	}
	for _, id := range []string{"board:M1", "mailbox:M1"} {
		e, err := idx.Get(ctx, id)
		if err != nil || e.App != strings.Split(id, ":")[0] || e.Source != fengqiao.SourceApp {
			t.Fatalf("Get(%s) = %+v, %v", id, e, err)
		}
	}
	f, err := idx.Facets(ctx, fengqiao.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []fengqiao.FacetCount{{Value: "board", Count: 3}, {Value: "mailbox", Count: 3}}; !slices.Equal(f.Apps, want) {
		t.Fatalf("apps facet %v, want %v", f.Apps, want)
	}
	states, err := r.States()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.RecordsIn != 3 {
			t.Errorf("%s counts %d records in, want 3", s.Name, s.RecordsIn)
		}
	}
}
