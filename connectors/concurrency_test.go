package connectors_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/search"
)

// countedConnector has pages empty pages to read, and counts the syncs running
// at once across all of its kind.
type countedConnector struct {
	name    string
	pages   int
	running *atomic.Int64
	peak    *atomic.Int64
	syncs   atomic.Int64
	wake    chan struct{}
}

func (c *countedConnector) Name() string            { return c.name }
func (c *countedConnector) Title() string           { return c.name }
func (c *countedConnector) Source() fengqiao.Source { return fengqiao.SourceApp }
func (c *countedConnector) Wake() <-chan struct{}   { return c.wake }
func (c *countedConnector) Fetch(context.Context, string) (*fengqiao.Event, error) {
	return nil, fengqiao.Errorf(fengqiao.ENOTFOUND, "无")
}

func (c *countedConnector) Sync(_ context.Context, cursor string) (*fengqiao.SyncBatch, error) {
	n := c.running.Add(1)
	defer c.running.Add(-1)
	for old := c.peak.Load(); n > old && !c.peak.CompareAndSwap(old, n); old = c.peak.Load() {
	}
	c.syncs.Add(1)
	time.Sleep(time.Millisecond) // long enough for the others to overlap
	page, _ := strconv.Atoi(cursor)
	page = min(page+1, c.pages)
	return &fengqiao.SyncBatch{Next: strconv.Itoa(page), More: page < c.pages}, nil
}

// Run syncs every connector to its end with no more than Concurrency at once,
// and a woken connector is synced again without waiting for the interval.
func TestRunSyncsTheFleetWithinItsConcurrency(t *testing.T) {
	t.Parallel()
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
	const concurrency = 3
	r := &connectors.Runner{Tree: fengqiao.Wenling(), Index: idx, State: st, BatchRecords: 1, Concurrency: concurrency, Interval: time.Hour}
	var running, peak atomic.Int64
	var cs []*countedConnector
	for i := range 20 {
		c := &countedConnector{name: fmt.Sprintf("app%02d", i), pages: 1 + i%5, running: &running, peak: &peak, wake: make(chan struct{}, 1)}
		cs = append(cs, c)
		r.Add(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	for !r.Ready() {
		time.Sleep(5 * time.Millisecond)
	}
	for _, c := range cs {
		// At least one sync a page.
		if got := c.syncs.Load(); got < int64(c.pages) {
			t.Errorf("%s synced %d times for %d pages", c.name, got, c.pages)
		}
	}
	if p := peak.Load(); p > concurrency {
		t.Errorf("%d syncs ran at once; the concurrency is %d", p, concurrency)
	}
	woken := cs[7]
	before := woken.syncs.Load()
	woken.wake <- struct{}{}
	for woken.syncs.Load() == before {
		time.Sleep(5 * time.Millisecond)
	}
}
