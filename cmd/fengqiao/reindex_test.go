package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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
	oldChains := hub.Chains.Dir()
	chainsBefore := partition(t, hub)
	if len(chainsBefore) == 0 {
		t.Fatal("the demo made no chains")
	}
	// A report of one chain's matter again, by its reporter, arrives while the
	// chains are rebuilt: the new store must link it to the old events.
	dup, seed := againOfAChainedEvent(t, hub)
	var stderr syncBuffer
	var duringHealth healthView
	hub.reindex.mu.Lock() // the rebuild's goroutine reads it under the lock
	hub.reindex.stepped = func(phase, step string) {
		if step != stepChainsLinks {
			return
		}
		if err := hub.Index.Upsert(ctx, []*fengqiao.Event{dup}); err != nil {
			t.Error(err)
		}
		if err := hub.Chains.Link(ctx, []*fengqiao.Event{dup}); err != nil {
			t.Error(err)
		}
		// The old store answers meanwhile, the new report included.
		if dir := hub.Chains.Dir(); dir != oldChains {
			t.Errorf("the chains in use changed to %s mid-rebuild", dir)
		}
		if ch, err := hub.Chains.ChainOf(ctx, dup.ID); err != nil || ch == nil || !slices.Contains(ch.EventIDs, seed.ID) {
			t.Errorf("mid-rebuild the old store has %s in %v (%v), want with %s", dup.ID, ch, err, seed.ID)
		}
		duringHealth = healthz(t, base, tokens["operator"])
		// Hold the step until fengqiao reindex has shown it.
		for !strings.Contains(stderr.String(), "step="+stepChainsLinks+" ") {
			time.Sleep(5 * time.Millisecond)
		}
	}
	hub.reindex.mu.Unlock()

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
			// As the runner does: indexed, then linked.
			if err := hub.Index.Upsert(ctx, []*fengqiao.Event{e}); err != nil {
				t.Error(err)
				return
			}
			if err := hub.Chains.Link(ctx, []*fengqiao.Event{e}); err != nil {
				t.Error(err)
				return
			}
			added = append(added, e)
		}
	})
	var stdout bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	err = m.Run(ctx, []string{"reindex", "-addr", addr, "-token", tokens["operator"], "-poll", "20ms"})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("reindex: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "重建完成：新索引共") || !strings.Contains(stdout.String(), "串联已由") {
		t.Errorf("reindex printed %q", stdout.String())
	}
	for _, step := range []string{stepIndex, stepChainsLinks} {
		if !strings.Contains(stderr.String(), "step="+step+" ") {
			t.Errorf("no progress of %s shown:\n%s", step, stderr.String())
		}
	}
	if !strings.Contains(stderr.String(), "done=") || !strings.Contains(stderr.String(), "total=") {
		t.Errorf("no progress shown:\n%s", stderr.String())
	}

	// The chains were rebuilt into a new store: the old one is gone, the chains
	// are what they were, and the report that came during the rebuild is linked.
	if dir := hub.Chains.Dir(); dir == oldChains {
		t.Errorf("the chains in use are still %s", oldChains)
	}
	if _, err := os.Stat(oldChains); !os.IsNotExist(err) {
		t.Errorf("the old chains %s are left (%v)", oldChains, err)
	}
	after := partition(t, hub)
	differ := 0
	for id, members := range chainsBefore {
		got := slices.DeleteFunc(slices.Clone(after[id]), func(m string) bool { return m == dup.ID })
		if !slices.Equal(got, members) {
			differ++
		}
	}
	if differ > 0 {
		t.Errorf("%d of the %d chained events are not chained with the same events after the rebuild", differ, len(chainsBefore))
	}
	if ch, err := hub.Chains.ChainOf(ctx, dup.ID); err != nil || ch == nil || !slices.Contains(ch.EventIDs, seed.ID) {
		t.Errorf("after the rebuild %s is in %v (%v), want with %s", dup.ID, ch, err, seed.ID)
	}
	hub.reindex.mu.Lock() // the hook ran before the rebuild ended under the lock
	during := duringHealth.Reindex
	hub.reindex.mu.Unlock()
	if h := during; h == nil || h.State != "running" || h.Phase != phaseChains || h.Step != stepChainsLinks || h.Total == 0 {
		t.Errorf("/healthz during the chains rebuild shows %+v", h)
	}
	if h := healthz(t, base, tokens["operator"]).Reindex; h == nil || h.State != "done" || h.Phase != phaseChains || h.Done != h.Total || h.Linked == 0 || h.Events == 0 {
		t.Errorf("/healthz after the rebuild shows %+v", h)
	}
	if h := healthz(t, base, "").Reindex; h != nil {
		t.Errorf("/healthz without a token shows the reindex: %+v", h)
	}
	if hub.swap.Dir() == oldDir {
		t.Errorf("the index in use is still %s", oldDir)
	}
	if _, err := os.Stat(oldDir); !os.IsNotExist(err) {
		t.Errorf("the old index %s is left (%v)", oldDir, err)
	}
	want := before + len(added) + 1 // and the report linked during the chains' rebuild
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

	// The chains alone, stopped while they link: the old store stays in use,
	// whole, with nothing left beside it.
	chainsDir := hub.Chains.Dir()
	chainsNow := partition(t, hub)
	hub.reindex.mu.Lock()
	hub.reindex.stepped = func(phase, step string) {
		if step == stepChainsLinks {
			post(http.MethodDelete)
		}
	}
	hub.reindex.mu.Unlock()
	req, _ := http.NewRequest(http.MethodPost, base+"/admin/reindex?only=chains", nil)
	req.Header.Set("Authorization", "Bearer "+tokens["operator"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /admin/reindex?only=chains: %d", resp.StatusCode)
	}
	for {
		st := hub.reindex.current()
		if st.State == "cancelled" {
			break
		}
		if st.State != "running" {
			t.Fatalf("the stopped chains rebuild ended %s: %s", st.State, st.Error)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := hub.reindex.current(); !slices.Equal(st.Phases, []string{phaseChains}) || st.Phase != phaseChains {
		t.Errorf("the chains-only rebuild ran %v, stopped in %s", st.Phases, st.Phase)
	}
	if dir := hub.Chains.Dir(); dir != chainsDir {
		t.Errorf("after a stopped rebuild the chains in use are %s, want %s", dir, chainsDir)
	}
	if after := partition(t, hub); !maps.EqualFunc(after, chainsNow, slices.Equal[[]string]) {
		t.Errorf("a stopped rebuild changed the chains: %d chained events before, %d after", len(chainsNow), len(after))
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(chainsDir), "chains*"))
	for _, d := range left {
		if d != chainsDir && !strings.HasSuffix(d, ".current") {
			t.Errorf("%s left beside the chains in use", d)
		}
	}
	if h := healthz(t, base, tokens["operator"]).Reindex; h == nil || h.State != "cancelled" {
		t.Errorf("/healthz after a stopped rebuild shows %+v", h)
	}
}

// partition is the events of every chain, by event: who is chained with whom,
// whatever the chains' ids.
func partition(t *testing.T, hub *Hub) map[string][]string {
	t.Helper()
	member, err := hub.Chains.Membership()
	if err != nil {
		t.Fatal(err)
	}
	byChain := map[string][]string{}
	for id, ch := range member {
		byChain[ch] = append(byChain[ch], id)
	}
	out := map[string][]string{}
	for id, ch := range member {
		members := byChain[ch]
		slices.Sort(members)
		out[id] = members
	}
	return out
}

// againOfAChainedEvent is a new report, by the same reporter and in the same
// words, of an event in a chain of the demo.
func againOfAChainedEvent(t *testing.T, hub *Hub) (again, seed *fengqiao.Event) {
	t.Helper()
	ctx := context.Background()
	top, err := hub.Chains.Chains(ctx, fengqiao.ChainFilter{}, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range top {
		for _, id := range ch.EventIDs {
			e, err := hub.Index.Get(ctx, id)
			if err != nil || e == nil || e.Reporter() == "" {
				continue
			}
			again := *e
			again.SourceID = "CXAGAIN1"
			again.Source = fengqiao.SourceHotline12345
			again.ID = fengqiao.EventID(again.Source, again.SourceID)
			again.ReportedAt = e.ReportedAt.Add(time.Hour)
			again.UpdatedAt = again.ReportedAt
			again.RefersTo = ""
			return &again, e
		}
	}
	t.Fatal("no chained event with a reporter")
	return nil, nil
}

// healthView is the part of /healthz these tests read.
type healthView struct {
	Status  string
	Reindex *reindexStatus
}

func healthz(t *testing.T, base, token string) healthView {
	t.Helper()
	var h healthView
	askJSON(t, http.MethodGet, base+"/healthz", token, nil, &h)
	return h
}

// syncBuffer is a buffer one goroutine writes while another reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
