package manifest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/manifest"
	"fengqiao/search"
)

// TestResetCursorReadsAgainSinceTheTime: after a reset, the next sync of an app
// with an "updated since" cursor asks its upstream for the changes since the
// time given, not since the newest record read.
func TestResetCursorReadsAgainSinceTheTime(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var asked []string // the since parameter of every list request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Query().Get("since"))
		mu.Unlock()
		fmt.Fprint(w, `{"data":[{"id":"A1","title":"路灯不亮","t":1793500000}]}`)
	}))
	defer srv.Close()
	m, err := manifest.Parse("app.yaml", []byte(strings.Replace(good, "http://127.0.0.1:9", srv.URL, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	idx, err := search.OpenBleve(filepath.Join(dir, "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	st, err := connectors.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := &connectors.Runner{Tree: fengqiao.Wenling(), Index: idx, State: st}
	c := manifest.Open(m, nil)
	r.Add(c)
	for range 2 { // the first from the start, the second since the record read
		if _, err := r.SyncBatch(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, fengqiao.CST)
	if _, err := r.ResetCursor(t.Context(), "app", from); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SyncBatch(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	want := []string{"", "1793500000", fmt.Sprint(from.Unix())}
	if fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Errorf("since asked = %q, want %q", asked, want)
	}
	if _, err := r.ResetCursor(t.Context(), "app", time.Now().Add(time.Hour)); fengqiao.ErrorCode(err) != fengqiao.EINVALID {
		t.Errorf("a reset into the future: %v", err)
	}
}
