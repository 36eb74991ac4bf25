package manifest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/manifest"
	"fengqiao/search"
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
			m, err := manifest.Parse("board.yaml", []byte(strings.Replace(tokenBoard, "http://127.0.0.1:9", srv.URL, 1)), nil)
			if err != nil {
				t.Fatal(err)
			}
			m.Upstream = connectors.UpstreamConfig{RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond, Timeout: 2 * time.Second}
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
			r.Add(manifest.New(m, nil))
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
