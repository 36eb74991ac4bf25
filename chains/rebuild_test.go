package chains_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"

	"fengqiao"
	"fengqiao/chains"
)

// memEvents is the hub's events as a rebuild reads them. Scan reads what it
// holds when it begins.
type memEvents struct {
	mu     sync.Mutex
	events map[string]*fengqiao.Event
}

func newMemEvents(events ...*fengqiao.Event) *memEvents {
	m := &memEvents{events: map[string]*fengqiao.Event{}}
	m.add(events...)
	return m
}

func (m *memEvents) add(events ...*fengqiao.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range events {
		m.events[e.ID] = e
	}
}

func (m *memEvents) Scan(ctx context.Context, fn func([]*fengqiao.Event) error) error {
	m.mu.Lock()
	all := slices.Collect(maps.Values(m.events))
	m.mu.Unlock()
	for len(all) > 0 {
		n := min(len(all), 700)
		if err := fn(all[:n]); err != nil {
			return err
		}
		all = all[n:]
	}
	return nil
}

func (m *memEvents) Lookup(ctx context.Context, ids []string) (map[string]*fengqiao.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]*fengqiao.Event{}
	for _, id := range ids {
		if e := m.events[id]; e != nil {
			out[id] = e
		}
	}
	return out, nil
}

// chainService is what both a Store and a Swap answer.
type chainService interface {
	fengqiao.ChainService
	fengqiao.ClusterService
	Membership() (map[string]string, error)
}

// snapshot is everything a reader of chains can see, for comparing two stores.
type snapshot struct {
	membership map[string]string
	links      []fengqiao.Link
	chains     []*fengqiao.Chain
	clusters   []*fengqiao.CaseCluster
}

func snapshotOf(t *testing.T, s chainService, ids []string) snapshot {
	t.Helper()
	ctx := context.Background()
	var out snapshot
	var err error
	if out.membership, err = s.Membership(); err != nil {
		t.Fatal(err)
	}
	if out.links, err = s.Links(ctx, ids); err != nil {
		t.Fatal(err)
	}
	sort.Slice(out.links, func(i, j int) bool {
		return out.links[i].From+"\x00"+out.links[i].To < out.links[j].From+"\x00"+out.links[j].To
	})
	if out.chains, err = s.Chains(ctx, fengqiao.ChainFilter{}, 1<<30); err != nil {
		t.Fatal(err)
	}
	if out.clusters, err = s.Clusters(ctx, fengqiao.ClusterFilter{MinReporters: 1}, 1<<30); err != nil {
		t.Fatal(err)
	}
	sort.Slice(out.clusters, func(i, j int) bool { return out.clusters[i].ID < out.clusters[j].ID })
	return out
}

func compareSnapshots(t *testing.T, got, want snapshot) {
	t.Helper()
	if len(want.membership) == 0 || len(want.links) == 0 || len(want.clusters) == 0 {
		t.Fatalf("the fresh store has %d chained events, %d links, %d clusters: nothing to compare", len(want.membership), len(want.links), len(want.clusters))
	}
	if !maps.Equal(got.membership, want.membership) {
		diff := 0
		for id, ch := range want.membership {
			if got.membership[id] != ch {
				diff++
			}
		}
		t.Errorf("membership: %d chained events after the rebuild, %d fresh, %d differ", len(got.membership), len(want.membership), diff)
	}
	if len(got.links) != len(want.links) {
		t.Errorf("%d links after the rebuild, %d fresh", len(got.links), len(want.links))
	} else {
		for i := range want.links {
			g, w := got.links[i], want.links[i]
			if g.From != w.From || g.To != w.To || g.Confidence != w.Confidence || !slices.Equal(g.Reasons, w.Reasons) {
				t.Errorf("link %d: %+v after the rebuild, %+v fresh", i, g, w)
				break
			}
		}
	}
	if len(got.chains) != len(want.chains) {
		t.Errorf("%d chains after the rebuild, %d fresh", len(got.chains), len(want.chains))
	} else {
		for i := range want.chains {
			g, w := got.chains[i], want.chains[i]
			if g.ID != w.ID || !g.Created.Equal(w.Created) || !slices.Equal(g.EventIDs, w.EventIDs) {
				t.Errorf("chain %d: %s %v after the rebuild, %s %v fresh", i, g.ID, g.EventIDs, w.ID, w.EventIDs)
				break
			}
		}
	}
	if len(got.clusters) != len(want.clusters) {
		t.Errorf("%d clusters after the rebuild, %d fresh", len(got.clusters), len(want.clusters))
	} else {
		for i := range want.clusters {
			g, w := got.clusters[i], want.clusters[i]
			if g.ID != w.ID || !slices.Equal(g.EventIDs, w.EventIDs) {
				t.Errorf("cluster %s: %v after the rebuild, %s %v fresh", g.ID, g.EventIDs, w.ID, w.EventIDs)
				break
			}
		}
	}
}

// TestRebuildLinksLikeAFreshStore: a store whose events were linked out of
// reporting order is rebuilt, while batches keep being linked, into exactly the
// store a first sync would make of the same events in reporting order followed
// by those batches: memberships, chain ids, links and clusters. The old store
// answers until the switch; its chain ids keep resolving after it.
func TestRebuildLinksLikeAFreshStore(t *testing.T) {
	t.Parallel()
	tree := fengqiao.Wenling()
	ctx := context.Background()
	stream := newCitizenStream(tree)
	history := stream.next(2500)
	indexedNotLinked := stream.next(60) // indexed, its batch not linked yet when the rebuild reads
	during := stream.next(80)           // arrives while the rebuild reads

	base := filepath.Join(t.TempDir(), "chains")
	live, err := chains.OpenSwap(base, tree)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	// Linked out of reporting order: newest batches first.
	for i := len(history); i > 0; i -= 300 {
		if err := live.Link(ctx, history[max(0, i-300):i]); err != nil {
			t.Fatal(err)
		}
	}
	oldIDs := map[string]bool{}
	before, _ := live.Chains(ctx, fengqiao.ChainFilter{}, 1<<30)
	for _, ch := range before {
		oldIDs[ch.ID] = true
	}
	source := newMemEvents(append(slices.Clone(history), indexedNotLinked...)...)

	oldDir := live.Dir()
	var seen []string
	hooked := false
	linked, err := live.Rebuild(ctx, source, func(step string, done, total int) {
		seen = append(seen, step)
		if hooked {
			return
		}
		hooked = true
		source.add(during...)
		for _, batch := range [][]*fengqiao.Event{during[:40], indexedNotLinked, during[40:]} {
			if err := live.Link(ctx, batch); err != nil {
				t.Error(err)
			}
		}
		// The old store answers meanwhile, new batches included.
		if live.Dir() != oldDir {
			t.Errorf("the store in use changed to %s mid-rebuild", live.Dir())
		}
		if ch, err := live.ChainOf(ctx, during[0].ID); err != nil {
			t.Error(err)
		} else if ch == nil {
			// not every event is in a chain; the membership check below covers it
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if linked != len(history)+len(indexedNotLinked) {
		t.Errorf("the rebuild linked %d events, want %d", linked, len(history)+len(indexedNotLinked))
	}
	if !slices.Contains(seen, chains.ReadingStep) || !slices.Contains(seen, chains.LinkingStep) {
		t.Errorf("progress told of %v", slices.Compact(seen))
	}
	if live.Dir() == oldDir {
		t.Fatalf("the store in use is still %s", oldDir)
	}
	if _, err := os.Stat(oldDir); !os.IsNotExist(err) {
		t.Errorf("the old store %s is left (%v)", oldDir, err)
	}

	// The same events linked fresh, in reporting order, a rebuild batch at a
	// time, then the batches in the order they came.
	fresh, err := chains.Open(filepath.Join(t.TempDir(), "fresh"), tree)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	sorted := append(slices.Clone(history), indexedNotLinked...)
	slices.SortStableFunc(sorted, func(a, b *fengqiao.Event) int {
		if c := a.ReportedAt.Compare(b.ReportedAt); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	for i := 0; i < len(sorted); i += chains.RebuildBatch {
		if err := fresh.Link(ctx, sorted[i:min(i+chains.RebuildBatch, len(sorted))]); err != nil {
			t.Fatal(err)
		}
	}
	for _, batch := range [][]*fengqiao.Event{during[:40], indexedNotLinked, during[40:]} {
		if err := fresh.Link(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for _, e := range append(sorted, during...) {
		ids = append(ids, e.ID)
	}
	compareSnapshots(t, snapshotOf(t, live, ids), snapshotOf(t, fresh, ids))

	// Every chain id the old store gave out still finds a chain.
	for id := range oldIDs {
		if _, err := live.Chain(ctx, id); err != nil {
			t.Errorf("old chain id %s: %v", id, err)
		}
	}

	// Linking after the switch reaches the new store.
	more := stream.next(50)
	if err := live.Link(ctx, more); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Link(ctx, more); err != nil {
		t.Fatal(err)
	}
	for _, e := range more {
		ids = append(ids, e.ID)
	}
	compareSnapshots(t, snapshotOf(t, live, ids), snapshotOf(t, fresh, ids))

	// A restart opens the store the marker names.
	dir := live.Dir()
	want := snapshotOf(t, live, ids)
	live.Close()
	again, err := chains.OpenSwap(base, tree)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Dir() != dir {
		t.Errorf("after a restart the store in use is %s, want %s", again.Dir(), dir)
	}
	compareSnapshots(t, snapshotOf(t, again, ids), want)
}

// TestAStoppedRebuildKeepsTheOldStore: a rebuild stopped mid-way leaves the old
// store in use, with the batches linked meanwhile, and no partial directory; a
// partial directory a crash left is removed at the next start.
func TestAStoppedRebuildKeepsTheOldStore(t *testing.T) {
	t.Parallel()
	tree := fengqiao.Wenling()
	ctx := context.Background()
	stream := newCitizenStream(tree)
	history := stream.next(1500)
	base := filepath.Join(t.TempDir(), "chains")
	live, err := chains.OpenSwap(base, tree)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { live.Close() }()
	if err := live.Link(ctx, history); err != nil {
		t.Fatal(err)
	}
	ids := func(events []*fengqiao.Event) []string {
		var out []string
		for _, e := range events {
			out = append(out, e.ID)
		}
		return out
	}
	during := stream.next(40)
	stop, cancel := context.WithCancel(ctx)
	_, err = live.Rebuild(stop, newMemEvents(history...), func(step string, done, total int) {
		if step == chains.LinkingStep && done >= chains.RebuildBatch {
			if err := live.Link(ctx, during); err != nil {
				t.Error(err)
			}
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("the stopped rebuild returned %v", err)
	}
	if live.Dir() != base {
		t.Errorf("the store in use is %s, want %s", live.Dir(), base)
	}
	if left, _ := filepath.Glob(base + ".*"); len(left) > 0 {
		t.Errorf("left beside the store: %v", left)
	}
	all := append(slices.Clone(history), during...)
	got := snapshotOf(t, live, ids(all))
	fresh, err := chains.Open(filepath.Join(t.TempDir(), "fresh"), tree)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := fresh.Link(ctx, history); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Link(ctx, during); err != nil {
		t.Fatal(err)
	}
	compareSnapshots(t, got, snapshotOf(t, fresh, ids(all)))

	// A crash mid-rebuild leaves a partial directory: the next start removes it.
	live.Close()
	if err := os.MkdirAll(base+".r1", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base+".r1", "000001.log"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if live, err = chains.OpenSwap(base, tree); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(base + ".r1"); !os.IsNotExist(err) {
		t.Errorf("the partial directory is left (%v)", err)
	}
	compareSnapshots(t, snapshotOf(t, live, ids(all)), got)

	// One rebuild at a time.
	block := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		live.Rebuild(ctx, newMemEvents(history...), func(step string, done, total int) {
			if step == chains.ReadingStep {
				select {
				case <-started:
				default:
					close(started)
					<-block
				}
			}
		})
	})
	<-started
	if _, err := live.Rebuild(ctx, newMemEvents(), nil); !errors.Is(err, chains.ErrRebuilding) {
		t.Errorf("a second rebuild at once: %v", err)
	}
	close(block)
	wg.Wait()
}
