package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fengqiao"
)

// TestReindexWhileTheHubServes: `fengqiao reindex` asks the running hub to
// rebuild its index while events keep arriving, shows its progress, and leaves
// every event (old and new) searchable and counted; only county operators and
// commanders may ask; a stopped rebuild leaves the hub answering from its index.
func TestReindexWhileTheHubServes(t *testing.T) {
	t.Parallel()
	base, tokens, hub := startDemoHub(t)
	addr := strings.TrimPrefix(base, "http://")
	ctx := context.Background()
	before, err := hub.Index.Count(ctx, fengqiao.EventFilter{})
	if err != nil || before == 0 {
		t.Fatalf("the demo indexed %d events (%v)", before, err)
	}
	oldDir := hub.swap.Dir()

	for name, want := range map[string]int{"": http.StatusUnauthorized, "county": 0, "town": http.StatusForbidden, "village": http.StatusForbidden} {
		req, _ := http.NewRequest(http.MethodGet, base+"/admin/reindex", nil)
		if name != "" {
			req.Header.Set("Authorization", "Bearer "+tokens[name])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want == 0 {
			want = http.StatusOK
		}
		if resp.StatusCode != want {
			t.Errorf("GET /admin/reindex as %q: %d, want %d", name, resp.StatusCode, want)
		}
	}

	// Events keep arriving through the hub's index (and its cockpit tally)
	// while the rebuild runs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var added []*fengqiao.Event
	wg.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			e := &fengqiao.Event{ID: fengqiao.EventID(fengqiao.SourceHotline12345, fmt.Sprintf("CX%05d", n)), Source: fengqiao.SourceHotline12345,
				SourceID: fmt.Sprintf("CX%05d", n), Kind: fengqiao.KindComplaint, Status: fengqiao.StatusReceived,
				Title: "重建期间新到的工单 楼道堆物", ReportedAt: time.Now().UTC(), OrgCode: "331081100010"}
			if err := hub.Index.Upsert(ctx, []*fengqiao.Event{e}); err != nil {
				t.Error(err)
				return
			}
			added = append(added, e)
		}
	})
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	err = m.Run(ctx, []string{"reindex", "-addr", addr, "-token", tokens["operator"], "-poll", "20ms"})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("reindex: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "索引重建完成") {
		t.Errorf("reindex printed %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "step=重建索引") || !strings.Contains(stderr.String(), "done=") || !strings.Contains(stderr.String(), "total=") {
		t.Errorf("no progress shown:\n%s", stderr.String())
	}
	if hub.swap.Dir() == oldDir {
		t.Errorf("the index in use is still %s", oldDir)
	}
	if _, err := os.Stat(oldDir); !os.IsNotExist(err) {
		t.Errorf("the old index %s is left (%v)", oldDir, err)
	}
	want := before + len(added)
	if n, _ := hub.Index.Count(ctx, fengqiao.EventFilter{}); n != want {
		t.Errorf("after the rebuild the index holds %d events, want %d", n, want)
	}
	text := "楼道堆物"
	if n, _ := hub.Index.Count(ctx, fengqiao.EventFilter{Text: &text}); n != len(added) {
		t.Errorf("%s finds %d events after the rebuild, want the %d that arrived during it", text, n, len(added))
	}
	var page eventsPage
	graphQL(t, base, tokens["county"], `{ events(first: 0) { totalCount } }`, &page)
	if page.Events.TotalCount != want {
		t.Errorf("GraphQL counts %d events, want %d", page.Events.TotalCount, want)
	}
	// The cockpit's tally took the events that arrived too: its count of a
	// period is the index's.
	from, to := time.Now().UTC().AddDate(-2, -6, 0).Truncate(time.Hour), time.Now().UTC().Add(time.Hour).Truncate(time.Hour)
	inPeriod, _ := hub.Index.Count(ctx, fengqiao.EventFilter{From: &from, To: &to})
	var figures struct{ Cockpit struct{ Total int } }
	graphQL(t, base, tokens["county"], fmt.Sprintf(`{ cockpit(from: %q, to: %q, granularity: MONTH) { total } }`, from.Format(time.RFC3339), to.Format(time.RFC3339)), &figures)
	if figures.Cockpit.Total != inPeriod || inPeriod < len(added) {
		t.Errorf("the cockpit counts %d events in the period, the index %d (%d arrived during the rebuild)", figures.Cockpit.Total, inPeriod, len(added))
	}

	// A rebuild stopped at once (or finished before the stop arrived) leaves a
	// working hub with every event, and no partial index behind.
	post := func(method string) int {
		req, _ := http.NewRequest(method, base+"/admin/reindex", nil)
		req.Header.Set("Authorization", "Bearer "+tokens["operator"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(http.MethodPost); code != http.StatusAccepted {
		t.Fatalf("POST /admin/reindex: %d", code)
	}
	post(http.MethodDelete)
	for {
		hub.reindex.mu.Lock()
		state := hub.reindex.status.State
		hub.reindex.mu.Unlock()
		if state == "cancelled" || state == "done" {
			break
		}
		if state == "failed" {
			t.Fatalf("the stopped rebuild failed: %s", hub.reindex.status.Error)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, _ := hub.Index.Count(ctx, fengqiao.EventFilter{}); n != want {
		t.Errorf("after a stopped rebuild the index holds %d events, want %d", n, want)
	}
	dirs, _ := filepath.Glob(filepath.Join(filepath.Dir(oldDir), "events.bleve*"))
	for _, d := range dirs {
		if d != hub.swap.Dir() && !strings.HasSuffix(d, ".current") {
			t.Errorf("%s left beside the index in use", d)
		}
	}
}
