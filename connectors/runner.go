package connectors

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"fengqiao"
)

// Runner syncs connectors into the index. For each batch it validates the events,
// indexes the good ones, and only then commits the cursor with the quarantined
// rejects, so a crash at any point resumes from the last committed cursor and the
// replayed records overwrite themselves: nothing is lost and nothing duplicated.
type Runner struct {
	Tree  *fengqiao.OrgTree
	Index fengqiao.Index
	State *State
	Log   *slog.Logger
	// Interval is the pause between syncs of a connector that has caught up. Default 30s.
	Interval time.Duration
	// Linker, when set, links every indexed event into chains before the batch commits.
	Linker fengqiao.Linker
	// Indexed, when set, is told of every committed batch's events (live feeds).
	Indexed func(events []*fengqiao.Event)
	// BatchRecords is how many records a sync gathers, page after page of a
	// connector that has more ready, before it indexes them as one batch: an index
	// takes a thousand documents at once several times faster than ten batches of
	// a hundred. Default 1000; 1 indexes every page alone.
	BatchRecords int
	// Concurrency is how many connectors sync at once, fleet-wide: the batches
	// being read and held in memory, and so the requests to the upstreams. The
	// others wait their turn, in the order they came; a sync waiting for its
	// upstream's rateLimit holds its turn. Default DefaultConcurrency (8).
	Concurrency int

	connectors []fengqiao.Connector
	mu         sync.Mutex
	live       map[string]*liveState
	refused    map[string]refusal // manifests refused on reload, by connector name
	running    context.Context    // Run's, while it runs: connectors added then start at once
	turns      chan struct{}      // Run's: a sync holds one (Concurrency)
	loops      sync.WaitGroup     // Run's sync loops
	projects   *projectMatcher    // loaded from the state on first use
	ingestMu   sync.Mutex         // one batch at a time through ingest
}

// liveState is what the runner knows of a connector beyond the persisted state.
type liveState struct {
	connector  fengqiao.Connector // the version running now
	next       fengqiao.Connector // a new version waiting for the batch in flight, nil if none
	removing   bool               // removed: stops once the batch in flight has committed
	lastSyncAt *time.Time
	lastError  string
	caughtUp   bool
	ready      bool // caught up at least once since start
	catchUp    *catchUp

	// sync is held while a batch, a replay or a cursor reset runs, so that none
	// commits over another and a replaced version never syncs again. A one-slot
	// channel, so that waiting for it can end with the waiter's context.
	sync    chan struct{}
	changed chan struct{} // (buffered) a new version replaced the connector: sync at once
	removed chan struct{} // closed when the connector is removed
}

// refusal is a manifest refused on reload: the file, and why.
type refusal struct{ title, reason string }

// catchUp is a connector's run of batches from start (or from falling behind)
// until it catches up: what progress shows.
type catchUp struct {
	since     time.Time
	read      int
	remaining int       // -1: the upstream does not say
	logged    time.Time // when the run's progress was last logged
}

// Add registers a connector. Names must be unique: they key cursors and quarantine.
// Added while the runner runs, the connector starts syncing at once.
func (r *Runner) Add(c fengqiao.Connector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.add(c)
}

// add is Add with r.mu held.
func (r *Runner) add(c fengqiao.Connector) {
	if r.live == nil {
		r.live = map[string]*liveState{}
	}
	if _, dup := r.live[c.Name()]; dup {
		panic("connectors: two connectors named " + c.Name())
	}
	l := &liveState{connector: c, sync: make(chan struct{}, 1), changed: make(chan struct{}, 1), removed: make(chan struct{})}
	// One added by a reload while the hub serves does not make it start over:
	// until it catches up it shows as not caught up, and its errors as errors.
	l.ready = r.running != nil
	r.connectors = append(r.connectors, c)
	r.live[c.Name()] = l
	initConnectorMetrics(c.Name())
	states.runner.Store(r)
	if r.running != nil {
		r.startLoop(r.running, l)
	}
}

// Replace puts a new version of a registered connector in place of the old one
// and returns at once: the old one's batch in flight stops gathering, commits,
// and the new version syncs at once (cursor and quarantine stay, keyed by the
// name). Connectors lists the new version from now on. An unknown one is added.
func (r *Runner) Replace(c fengqiao.Connector) {
	r.mu.Lock()
	l := r.live[c.Name()]
	switch {
	case l == nil:
		r.add(c)
		r.mu.Unlock()
		return
	case l.removing: // removed, its batch still in flight: back again
		l.removing = false
		r.connectors = append(r.connectors, c)
	default:
		r.connectors[slices.IndexFunc(r.connectors, named(c.Name()))] = c
	}
	l.next = c
	r.mu.Unlock()
	r.applySoon(l)
}

// Remove stops and unregisters a connector, and returns at once: its batch in
// flight stops gathering and commits. What it indexed, its cursor and its
// quarantine stay.
func (r *Runner) Remove(name string) {
	r.mu.Lock()
	l := r.live[name]
	if l == nil || l.removing {
		r.mu.Unlock()
		return
	}
	l.next, l.removing = nil, true
	r.connectors = slices.DeleteFunc(r.connectors, named(name))
	r.mu.Unlock()
	r.applySoon(l)
}

func named(name string) func(fengqiao.Connector) bool {
	return func(c fengqiao.Connector) bool { return c.Name() == name }
}

// errBusy refuses a replay or a reset that waited for a sync longer than its caller.
var errBusy = fengqiao.Errorf(fengqiao.EUNAVAILABLE, "连接器正在同步，请稍后重试")

// lock takes l's sync, at once if it is free, else returns errBusy once ctx ends
// first. What Replace or Remove left meanwhile is applied first.
func (r *Runner) lock(ctx context.Context, l *liveState) error {
	select {
	case l.sync <- struct{}{}:
	default:
		select {
		case l.sync <- struct{}{}:
		case <-ctx.Done():
			return errBusy
		}
	}
	r.applyPending(l)
	return nil
}

// lockNamed takes the sync of the connector named: ENOTFOUND for one unknown or
// removed meanwhile, errBusy once ctx ends first.
func (r *Runner) lockNamed(ctx context.Context, name string) (*liveState, error) {
	l := r.slot(name)
	if l != nil {
		if err := r.lock(ctx, l); err != nil {
			return nil, err
		}
		select {
		case <-l.removed:
			<-l.sync
		default:
			return l, nil
		}
	}
	return nil, fengqiao.Errorf(fengqiao.ENOTFOUND, "连接器不存在或未在运行：%s", name)
}

// unlock applies what Replace or Remove left meanwhile and lets go of l's sync.
func (r *Runner) unlock(l *liveState) {
	r.applyPending(l)
	<-l.sync
}

// applySoon applies what Replace or Remove left for l now if l's sync is free;
// otherwise its holder does as it lets go.
func (r *Runner) applySoon(l *liveState) {
	select {
	case l.sync <- struct{}{}:
		r.unlock(l)
	default:
	}
}

// applyPending swaps in l's new version, or unregisters l; l's sync is held.
func (r *Runner) applyPending(l *liveState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case l.removing:
		l.removing = false
		delete(r.live, l.connector.Name())
		close(l.removed)
	case l.next != nil:
		l.connector, l.next = l.next, nil
		l.lastError, l.caughtUp = "", false
		select {
		case l.changed <- struct{}{}:
		default:
		}
	}
}

// changing reports whether a new version or a removal waits for l's batch.
func (r *Runner) changing(l *liveState) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return l.next != nil || l.removing
}

// Refuse records why a connector's manifest was refused (reason "" clears it);
// title names it where no version runs. States and /healthz show it.
func (r *Runner) Refuse(name, title, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if reason == "" {
		delete(r.refused, name)
		return
	}
	if r.refused == nil {
		r.refused = map[string]refusal{}
	}
	r.refused[name] = refusal{title, reason}
}

// slot returns a registered connector's live state, nil for an unknown or
// removed name.
func (r *Runner) slot(name string) *liveState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.slotLocked(name)
}

// slotLocked is slot with r.mu held.
func (r *Runner) slotLocked(name string) *liveState {
	if l := r.live[name]; l != nil && !l.removing {
		return l
	}
	return nil
}

// Connectors returns the registered connectors.
func (r *Runner) Connectors() []fengqiao.Connector {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]fengqiao.Connector(nil), r.connectors...)
}

// DefaultConcurrency is how many connectors sync at once when Runner.Concurrency
// is not set.
const DefaultConcurrency = 8

// Run syncs every connector until ctx ends, at most Concurrency at once: batches
// while a connector has more, each taking its turn anew (so connectors catching
// up take turns), then every Interval, or at once when a Waker connector wakes or
// a new version replaces it. Connectors added meanwhile start at once, removed
// ones stop.
func (r *Runner) Run(ctx context.Context) {
	turns := make(chan struct{}, cmp.Or(max(r.Concurrency, 0), DefaultConcurrency))
	r.mu.Lock()
	r.running, r.turns = ctx, turns
	for _, c := range r.connectors {
		r.startLoop(ctx, r.live[c.Name()])
	}
	r.mu.Unlock()
	<-ctx.Done()
	r.mu.Lock()
	r.running = nil // no loop starts after this
	r.mu.Unlock()
	r.loops.Wait()
}

// startLoop syncs l's connector until ctx ends or it is removed; r.mu is held.
func (r *Runner) startLoop(ctx context.Context, l *liveState) {
	interval := r.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	turns := r.turns
	r.loops.Go(func() {
		for ctx.Err() == nil {
			c, caughtUp, err := r.syncInTurn(ctx, turns, l)
			if c == nil {
				return // removed
			}
			if err == nil && !caughtUp {
				continue
			}
			var wake <-chan struct{} // nil, which never fires, for connectors that cannot wake
			if w, ok := c.(fengqiao.Waker); ok {
				wake = w.Wake()
			}
			select {
			case <-ctx.Done():
			case <-l.removed:
				return
			case <-time.After(interval):
			case <-wake:
			case <-l.changed:
			}
		}
	})
}

// syncInTurn syncs one batch of the version of l's connector running now, once
// one of the turns is free; nil once the connector is removed.
func (r *Runner) syncInTurn(ctx context.Context, turns chan struct{}, l *liveState) (fengqiao.Connector, bool, error) {
	r.mu.Lock()
	c := l.connector
	r.mu.Unlock()
	select {
	case turns <- struct{}{}:
	case <-ctx.Done():
		return c, false, ctx.Err()
	case <-l.removed:
		return nil, false, nil
	}
	syncsRunning.Inc()
	defer func() {
		syncsRunning.Dec()
		<-turns
	}()
	if err := r.lock(ctx, l); err != nil {
		return c, false, err
	}
	defer r.unlock(l)
	select {
	case <-l.removed:
		return nil, false, nil
	default:
	}
	r.mu.Lock()
	c = l.connector // replaced while waiting
	r.mu.Unlock()
	caughtUp, err := r.syncBatch(ctx, c, l)
	return c, caughtUp, err
}

// SyncUntilCaughtUp syncs each connector batch by batch until it has caught up,
// returning the first error.
func (r *Runner) SyncUntilCaughtUp(ctx context.Context) error {
	var errs []error
	for _, c := range r.Connectors() {
		for {
			caughtUp, err := r.SyncBatch(ctx, c)
			if err != nil {
				errs = append(errs, err)
				break
			}
			if caughtUp {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// SyncBatch reads, validates, indexes and commits one batch of c, and reports
// whether c has caught up with its upstream.
func (r *Runner) SyncBatch(ctx context.Context, c fengqiao.Connector) (caughtUp bool, err error) {
	l, err := r.lockNamed(ctx, c.Name())
	if err != nil {
		return false, err
	}
	defer r.unlock(l)
	return r.syncBatch(ctx, c, l)
}

// syncBatch is SyncBatch with l's sync held.
func (r *Runner) syncBatch(ctx context.Context, c fengqiao.Connector, l *liveState) (caughtUp bool, err error) {
	name := c.Name()
	defer func() {
		now := time.Now()
		r.mu.Lock()
		l.lastSyncAt, l.caughtUp, l.lastError = &now, caughtUp, ""
		l.ready = l.ready || caughtUp
		if err != nil {
			l.lastError = fengqiao.ErrorMessage(err)
			syncErrorsTotal.WithLabelValues(name).Inc()
			if r.Log != nil {
				r.Log.Warn("sync failed", "connector", name, "err", err)
			}
		}
		r.mu.Unlock()
	}()

	cursor, err := r.State.Cursor(name)
	if err != nil {
		return false, err
	}
	started := time.Now()
	batch, readErr := r.gather(ctx, c, l, cursor)
	if batch == nil {
		return false, readErr
	}
	res, err := r.ingest(ctx, c, batch, nil)
	if err != nil {
		return false, err
	}
	r.noteProgress(l, batch, started)
	if r.Indexed != nil && len(res.indexed) > 0 {
		r.Indexed(res.indexed)
	}
	countBatch(c, res, time.Since(started))
	return !batch.More && readErr == nil, readErr
}

// gather reads c's pages from cursor until BatchRecords records, the end, or a new
// version or removal of l waiting, as one batch resuming after the last page. A
// page that fails to read ends the gathering: the pages read before it are
// returned with the error, nil if there are none.
func (r *Runner) gather(ctx context.Context, c fengqiao.Connector, l *liveState, cursor string) (*fengqiao.SyncBatch, error) {
	var all *fengqiao.SyncBatch
	for {
		batch, err := c.Sync(ctx, cursor)
		if err != nil {
			return all, err
		}
		if all == nil {
			all = batch
		} else {
			all.Events = append(all.Events, batch.Events...)
			all.Projects = append(all.Projects, batch.Projects...)
			all.Rejects = append(all.Rejects, batch.Rejects...)
			all.Next, all.More, all.Remaining = batch.Next, batch.More, batch.Remaining
		}
		enough := r.BatchRecords
		if enough <= 0 {
			enough = 1000
		}
		if !all.More || len(all.Events)+len(all.Projects)+len(all.Rejects) >= enough || ctx.Err() != nil || r.changing(l) {
			return all, nil
		}
		cursor = all.Next
	}
}

// Title implements fengqiao.SyncService.
func (r *Runner) Title(connector string) string {
	for _, c := range r.Connectors() {
		if c.Name() == connector {
			return c.Title()
		}
	}
	return ""
}

// States returns the state of every connector, in registration order.
func (r *Runner) States() ([]fengqiao.ConnectorState, error) {
	var out []fengqiao.ConnectorState
	for _, c := range r.Connectors() {
		st := fengqiao.ConnectorState{Name: c.Name(), Title: c.Title(), Source: c.Source()}
		if err := r.State.load(&st); err != nil {
			return nil, err
		}
		if b, ok := c.(interface{ BreakerState() string }); ok {
			st.BreakerState = b.BreakerState()
		}
		r.mu.Lock()
		if l := r.live[c.Name()]; l != nil { // nil: removed since
			// A version waiting for the batch in flight has not caught up yet.
			st.LastSyncAt, st.LastError, st.CaughtUp = l.lastSyncAt, l.lastError, l.caughtUp && l.next == nil
			st.Progress = l.catchUp.progress(time.Now())
		}
		st.Refused = r.refused[c.Name()].reason
		r.mu.Unlock()
		out = append(out, st)
	}
	// Manifests refused with no version running: an app that is not synced.
	r.mu.Lock()
	var names []string
	for name := range r.refused {
		if r.slotLocked(name) == nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out, fengqiao.ConnectorState{Name: name, Title: r.refused[name].title, Source: fengqiao.SourceApp, Refused: r.refused[name].reason})
	}
	r.mu.Unlock()
	return out, nil
}

// noteProgress counts a committed batch, whose reading started at started, into
// the connector's catching up: a batch with more behind it starts (or continues)
// a run, the batch that reaches the end closes it.
func (r *Runner) noteProgress(l *liveState, batch *fengqiao.SyncBatch, started time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := l.connector.Name()
	if !batch.More {
		l.catchUp = nil
		return
	}
	if l.catchUp == nil {
		l.catchUp = &catchUp{since: started}
	}
	c := l.catchUp
	c.read += len(batch.Events) + len(batch.Rejects) + len(batch.Projects)
	c.remaining = -1
	if batch.Remaining > 0 {
		c.remaining = batch.Remaining
	}
	if now := time.Now(); r.Log != nil && now.Sub(c.logged) >= 5*time.Second {
		c.logged = now
		p := c.progress(now)
		if p.Remaining < 0 {
			r.Log.Info("sync progress", "connector", name, "read", p.Read, "total", "unknown", "rate", int(p.Rate))
		} else {
			r.Log.Info("sync progress", "connector", name, "read", p.Read, "total", p.Total, "rate", int(p.Rate), "left", p.ETA)
		}
	}
}

// progress is the run's progress at now; nil for no run.
func (c *catchUp) progress(now time.Time) *fengqiao.SyncProgress {
	if c == nil {
		return nil
	}
	p := &fengqiao.SyncProgress{Read: c.read, Since: c.since, Remaining: c.remaining, Total: -1}
	p.Rate = float64(c.read) / max(now.Sub(c.since).Seconds(), 1e-3)
	if c.remaining >= 0 {
		p.Total = c.read + c.remaining
		if p.Rate > 0 {
			p.ETA = time.Duration(float64(c.remaining) / p.Rate * float64(time.Second)).Round(time.Second)
		}
	}
	return p
}

// Progress returns the progress of every connector that is catching up, by name.
func (r *Runner) Progress() map[string]*fengqiao.SyncProgress {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]*fengqiao.SyncProgress{}
	for name, l := range r.live {
		if p := l.catchUp.progress(now); p != nil && !l.removing {
			out[name] = p
		}
	}
	return out
}

// Ready reports whether every connector has caught up at least once.
func (r *Runner) Ready() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.live {
		if !l.ready && !l.removing {
			return false
		}
	}
	return true
}

// Quarantine returns every record the connector holds in quarantine, newest first.
func (r *Runner) Quarantine(connector string) ([]fengqiao.Reject, error) {
	return r.State.Quarantine(connector)
}

// Project implements fengqiao.SyncService.
func (r *Runner) Project(code string) (*fengqiao.Project, error) { return r.State.Project(code) }

var _ fengqiao.SyncService = (*Runner)(nil)
