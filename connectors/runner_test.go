package connectors_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/hotline12345"
	"fengqiao/connectors/mediation"
	"fengqiao/search"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// testBundle is a small world served by both simulators, and a data directory.
type testBundle struct {
	world        *world.World
	hotline      *sim.Hotline12345
	mediation    *sim.Mediation
	hotlineURL   string
	mediationURL string
	dir          string
}

func setup(t *testing.T, malformedRate float64) *testBundle {
	t.Helper()
	w := world.Generate(world.Config{Seed: 7, Scale: 0.004, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST), MalformedRate: malformedRate})
	b := &testBundle{world: w, hotline: sim.NewHotline12345(w, "key"), mediation: sim.NewMediation(w, "app", "secret"), dir: t.TempDir()}
	b.hotlineURL = serve(t, b.hotline.Handler())
	b.mediationURL = serve(t, b.mediation.Handler())
	return b
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	r, err := sim.Start("127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r.URL
}

// fastUpstream keeps retries and breaker cooldowns short for tests.
var fastUpstream = connectors.UpstreamConfig{Timeout: 2 * time.Second, RetryMax: 2, RetryWaitMin: 5 * time.Millisecond,
	RetryWaitMax: 20 * time.Millisecond, BreakerFailures: 3, BreakerCooldown: 200 * time.Millisecond}

func (b *testBundle) hotlineConnector(pageSize int) *hotline12345.Connector {
	return hotline12345.New(hotline12345.Config{BaseURL: b.hotlineURL, APIKey: "key", PageSize: pageSize, Upstream: fastUpstream}, nil)
}

func (b *testBundle) mediationConnector(pageSize int) *mediation.Connector {
	return mediation.New(mediation.Config{BaseURL: b.mediationURL, AppID: "app", Secret: "secret", PageSize: pageSize, Upstream: fastUpstream}, nil)
}

// hub is what a hub process holds open: the index and the sync state.
type hub struct {
	closeOnce sync.Once
	runner    *connectors.Runner
	index     *search.Bleve
	state     *connectors.State
}

// open starts a "process" on the bundle's data directory; wrap may wrap its index.
func (b *testBundle) open(t *testing.T, wrap func(fengqiao.Index) fengqiao.Index, cs ...fengqiao.Connector) *hub {
	t.Helper()
	idx, err := search.OpenBleve(filepath.Join(b.dir, "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := connectors.OpenState(filepath.Join(b.dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	var index fengqiao.Index = idx
	if wrap != nil {
		index = wrap(idx)
	}
	// One page a batch, so that tests count pages; TestPagesAreGatheredIntoBatches
	// gathers them.
	r := &connectors.Runner{Tree: b.world.Tree, Index: index, State: st, BatchRecords: 1}
	for _, c := range cs {
		r.Add(c)
	}
	h := &hub{runner: r, index: idx, state: st}
	t.Cleanup(h.close)
	return h
}

func (h *hub) close() {
	h.closeOnce.Do(func() {
		h.index.Close()
		h.state.Close()
	})
}

// expected returns the ids of the sound records and the source ids of the broken ones.
func (b *testBundle) expected() (sound map[string]bool, broken map[string]bool) {
	sound, broken = map[string]bool{}, map[string]bool{}
	for _, o := range b.world.Hotline {
		if o.Malformed != "" {
			broken[o.GDBH] = true
		} else {
			sound[fengqiao.EventID(fengqiao.SourceHotline12345, o.GDBH)] = true
		}
	}
	for _, c := range b.world.Mediation {
		if c.Malformed != "" {
			broken[c.CaseNo] = true
		} else {
			sound[fengqiao.EventID(fengqiao.SourceMediation, c.CaseNo)] = true
		}
	}
	return sound, broken
}

// indexedIDs walks every page of the index and fails on an id seen twice.
func indexedIDs(t *testing.T, idx fengqiao.Index) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	after := ""
	for {
		page, err := idx.Search(context.Background(), fengqiao.EventQuery{First: fengqiao.MaxPageSize, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if seen[e.ID] {
				t.Fatalf("event %s indexed twice", e.ID)
			}
			seen[e.ID] = true
		}
		if !page.HasNext {
			return seen
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
}

func assertSameSet(t *testing.T, got, want map[string]bool) {
	t.Helper()
	for id := range want {
		if !got[id] {
			t.Errorf("missing %s", id)
		}
	}
	for id := range got {
		if !want[id] {
			t.Errorf("unexpected %s", id)
		}
	}
	if t.Failed() {
		t.Fatalf("got %d, want %d", len(got), len(want))
	}
}

func TestSyncIndexesSoundRecordsAndQuarantinesBrokenOnes(t *testing.T) {
	t.Parallel()
	b := setup(t, 0.03)
	h := b.open(t, nil, b.hotlineConnector(50), b.mediationConnector(40))
	if err := h.runner.SyncUntilCaughtUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	sound, broken := b.expected()
	if len(broken) == 0 {
		t.Fatal("the world has no broken records to test with")
	}
	assertSameSet(t, indexedIDs(t, h.index), sound)

	quarantined := map[string]bool{}
	for _, name := range []string{"hotline12345", "mediation"} {
		q, err := h.state.Quarantine(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range q {
			if r.Reason == "" || r.Raw == "" {
				t.Errorf("quarantined %s without reason or raw record: %+v", r.SourceID, r)
			}
			quarantined[r.SourceID] = true
		}
	}
	assertSameSet(t, quarantined, broken)

	states, err := h.runner.States()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if !s.CaughtUp || s.Cursor == "" || s.LastSuccessAt == nil || s.Quarantined == 0 || s.BreakerState != "closed" {
			t.Errorf("state of %s = %+v", s.Name, s)
		}
	}
}

// crashingIndex writes a batch and then fails, as if the process died between
// indexing a batch and committing its cursor.
type crashingIndex struct {
	fengqiao.Index
	upserts, crashAt atomic.Int32
}

func (c *crashingIndex) Upsert(ctx context.Context, events []*fengqiao.Event) error {
	if err := c.Index.Upsert(ctx, events); err != nil {
		return err
	}
	if c.upserts.Add(1) == c.crashAt.Load() {
		return errors.New("killed")
	}
	return nil
}

// countingUpserts counts the batches written to the index.
type countingUpserts struct {
	fengqiao.Index
	upserts atomic.Int32
}

func (c *countingUpserts) Upsert(ctx context.Context, events []*fengqiao.Event) error {
	c.upserts.Add(1)
	return c.Index.Upsert(ctx, events)
}

// A sync gathers pages into batches of about BatchRecords records before it
// indexes them, and loses nothing by it.
func TestPagesAreGatheredIntoBatches(t *testing.T) {
	t.Parallel()
	b := setup(t, 0.02)
	counter := &countingUpserts{}
	h := b.open(t, func(i fengqiao.Index) fengqiao.Index { counter.Index = i; return counter }, b.hotlineConnector(60))
	h.runner.BatchRecords = 600
	if err := h.runner.SyncUntilCaughtUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	pages := (len(b.world.Hotline) + 59) / 60
	if n := int(counter.upserts.Load()); n > pages/10+1 || n < 1 {
		t.Errorf("%d pages of 60 indexed in %d batches, want them gathered ten pages a batch", pages, n)
	}
	sound, _ := b.expected()
	hotline := map[string]bool{}
	for id := range sound {
		if strings.HasPrefix(id, string(fengqiao.SourceHotline12345)) {
			hotline[id] = true
		}
	}
	assertSameSet(t, indexedIDs(t, h.index), hotline)
}

func TestCrashBetweenIndexAndCursorLosesAndDuplicatesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, 0.02)
	for _, crashAt := range []int32{1, 4, 9} {
		dir := t.TempDir()
		b.dir = dir
		crash := &crashingIndex{}
		crash.crashAt.Store(crashAt)
		first := b.open(t, func(i fengqiao.Index) fengqiao.Index { crash.Index = i; return crash }, b.hotlineConnector(60), b.mediationConnector(30))
		if err := first.runner.SyncUntilCaughtUp(context.Background()); err == nil {
			t.Fatalf("crash at batch %d: sync did not fail", crashAt)
		}
		first.close()

		second := b.open(t, nil, b.hotlineConnector(60), b.mediationConnector(30))
		if err := second.runner.SyncUntilCaughtUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		sound, _ := b.expected()
		assertSameSet(t, indexedIDs(t, second.index), sound)
	}
}

func TestUpdatesAndTiesAreFollowed(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	h := b.open(t, nil, b.hotlineConnector(10))
	ctx := context.Background()
	if err := h.runner.SyncUntilCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	// 25 new orders share one update time: more than two pages of ties.
	tie := time.Date(2026, 11, 2, 9, 0, 0, 0, world.CST)
	proto := *b.world.Hotline[0]
	for i := range 25 {
		o := proto
		o.GDBH = "GDTIE" + string(rune('A'+i))
		o.Updated, o.GXSJ = tie, tie.Format(world.HotlineTimeLayout)
		b.hotline.Put(&o)
	}
	// And one existing order is settled later.
	settled := *b.world.Hotline[1]
	settled.BLZT, settled.BJSJ = "已办结", tie.Add(time.Hour).Format(world.HotlineTimeLayout)
	settled.Updated, settled.GXSJ = tie.Add(time.Hour), tie.Add(time.Hour).Format(world.HotlineTimeLayout)
	b.hotline.Put(&settled)

	if err := h.runner.SyncUntilCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := h.index.Count(ctx, fengqiao.EventFilter{}); n != b.hotline.Len() {
		t.Fatalf("indexed %d, upstream holds %d", n, b.hotline.Len())
	}
	e, err := h.index.Get(ctx, fengqiao.EventID(fengqiao.SourceHotline12345, settled.GDBH))
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != fengqiao.StatusResolved || e.ResolvedAt == nil {
		t.Fatalf("settled order is %s, resolved at %v", e.Status, e.ResolvedAt)
	}
}

func TestRetriesThrottlingAndBreaksOnSustainedFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	c := b.hotlineConnector(300)
	h := b.open(t, nil, c)
	ctx := context.Background()

	// Every other answer is a 429 asking for a one-second pause: retries carry the
	// sync through, and wait as asked although the backoff alone would not.
	b.hotline.Set(sim.Faults{ThrottleRate: 0.5, RetryAfter: 1})
	start := time.Now()
	if err := h.runner.SyncUntilCaughtUp(ctx); err != nil {
		t.Fatalf("sync under throttling: %v", err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("sync took %v: Retry-After was not honoured", waited)
	}
	if n, _ := h.index.Count(ctx, fengqiao.EventFilter{}); n != b.hotline.Len() {
		t.Fatalf("indexed %d of %d under throttling", n, b.hotline.Len())
	}

	// A failing upstream opens the breaker, which then fails fast.
	b.hotline.Set(sim.Faults{ErrorRate: 1})
	for range 3 {
		if _, err := h.runner.SyncBatch(ctx, c); fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
			t.Fatalf("sync against a failing upstream: err = %v, want EUNAVAILABLE", err)
		}
	}
	if s := c.BreakerState(); s != "open" {
		t.Fatalf("breaker is %s after sustained failure, want open", s)
	}
	states, _ := h.runner.States()
	if states[0].LastError == "" || states[0].BreakerState != "open" {
		t.Fatalf("connector state does not show the failure: %+v", states[0])
	}

	// After recovery and the cooldown, the breaker lets a call through and closes.
	b.hotline.Set(sim.Faults{})
	time.Sleep(250 * time.Millisecond)
	if _, err := h.runner.SyncBatch(ctx, c); err != nil {
		t.Fatalf("sync after recovery: %v", err)
	}
	if s := c.BreakerState(); s != "closed" {
		t.Fatalf("breaker is %s after recovery, want closed", s)
	}
}

func TestBadCredentialsAreReported(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	bad := mediation.New(mediation.Config{BaseURL: b.mediationURL, AppID: "app", Secret: "wrong", Upstream: fastUpstream}, nil)
	_, err := bad.Sync(context.Background(), "")
	if fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE || !contains(fengqiao.ErrorMessage(err), "签名校验失败") {
		t.Fatalf("wrong secret: err = %v", err)
	}
}

func TestFetchReadsOneRecordLive(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	ctx := context.Background()
	o := b.world.Hotline[3]
	e, err := b.hotlineConnector(10).Fetch(ctx, o.GDBH)
	if err != nil {
		t.Fatal(err)
	}
	if e.SourceID != o.GDBH || e.Content != o.SQNR || e.OrgCode != o.QHDM {
		t.Fatalf("Fetch = %+v", e)
	}
	if _, err := b.mediationConnector(10).Fetch(ctx, "TJ-none"); fengqiao.ErrorCode(err) != fengqiao.ENOTFOUND {
		t.Fatalf("Fetch missing case: err = %v, want ENOTFOUND", err)
	}
	if _, err := b.hotlineConnector(10).Fetch(ctx, "GD-none"); fengqiao.ErrorCode(err) != fengqiao.ENOTFOUND {
		t.Fatalf("Fetch missing order: err = %v, want ENOTFOUND", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
