package chains

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"

	"fengqiao"
)

// Swap is the chain store the hub serves, which can be rebuilt while it serves
// (fengqiao reindex). Readers always use one complete store, the current
// generation. A rebuild links every event the hub keeps into a new store in a
// sibling directory, in reporting order, as a first sync into an empty store
// would; the batches the hub links meanwhile go to the current store and are
// kept, and once the history is linked they are linked into the new store too,
// in the order they came. Then the new store takes the current one's place in one
// step and the old directory is removed.
//
// On disk the generations are base (the first) and base.r1, base.r2, …; the file
// base.current names the one in use. It is written only once a rebuild is
// complete, so a crash mid-rebuild leaves the old store in use, and OpenSwap
// removes every other generation directory it finds (a partial rebuild, or the
// old one left by a crash after the switch).
type Swap struct {
	base string
	tree *fengqiao.OrgTree

	// mu guards cur: readers take it shared only to pin the current generation.
	mu  sync.RWMutex
	cur *chainGen

	// lmu orders Link against a rebuild: Link holds it while it links a batch
	// into the current store and keeps it for the rebuild (queue non-nil); the
	// last of the catch-up and the switch hold it too, so no batch falls between.
	lmu   sync.Mutex
	queue [][]*fengqiao.Event

	rebuildMu sync.Mutex // one rebuild at a time; Close waits for it
	cancel    atomic.Pointer[context.CancelFunc]
	closed    bool // guarded by rebuildMu
}

// chainGen is one store directory. Readers hold use shared while they read it,
// so it is closed only once the last of them is done.
type chainGen struct {
	*Store
	dir string
	use sync.RWMutex
}

var (
	_ fengqiao.Linker         = (*Swap)(nil)
	_ fengqiao.ChainService   = (*Swap)(nil)
	_ fengqiao.ClusterService = (*Swap)(nil)
)

// OpenSwap opens the chain store whose first generation lives in base
// (…/chains), using the generation base.current names, and removes the
// generation directories not in use.
func OpenSwap(base string, tree *fengqiao.OrgTree) (*Swap, error) {
	dir := base
	if name, err := os.ReadFile(base + ".current"); err == nil {
		named := filepath.Join(filepath.Dir(base), strings.TrimSpace(string(name)))
		if _, ok := generationOf(base, named); ok {
			if _, err := os.Stat(named); err == nil {
				dir = named
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := removeGenerations(base, dir); err != nil {
		return nil, err
	}
	s, err := Open(dir, tree)
	if err != nil {
		return nil, err
	}
	return &Swap{base: base, tree: tree, cur: &chainGen{Store: s, dir: dir}}, nil
}

// generationOf is dir's generation: 0 for base, n for base.rn.
func generationOf(base, dir string) (int, bool) {
	if dir == base {
		return 0, true
	}
	rest, ok := strings.CutPrefix(dir, base+".r")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n > 0 && strconv.Itoa(n) == rest
}

// removeGenerations removes every generation directory of base but keep.
func removeGenerations(base, keep string) error {
	found, err := filepath.Glob(base + ".r*")
	if err != nil {
		return err
	}
	if keep != base {
		found = append(found, base)
	}
	for _, dir := range found {
		if _, ok := generationOf(base, dir); ok && dir != keep {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// Dir is the directory of the generation in use.
func (w *Swap) Dir() string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.cur.dir
}

// reading pins the current generation for one read; call done after it.
func (w *Swap) reading() (g *chainGen, done func()) {
	w.mu.RLock()
	g = w.cur
	g.use.RLock()
	w.mu.RUnlock()
	return g, g.use.RUnlock
}

// Link implements fengqiao.Linker: into the current store, and during a rebuild
// the batch is kept to be linked into the new one as well.
func (w *Swap) Link(ctx context.Context, events []*fengqiao.Event) error {
	w.lmu.Lock()
	defer w.lmu.Unlock()
	if w.queue != nil {
		w.queue = append(w.queue, slices.Clone(events))
	}
	return w.cur.Link(ctx, events) // cur changes only under lmu
}

// ChainOf implements fengqiao.ChainService.
func (w *Swap) ChainOf(ctx context.Context, eventID string) (*fengqiao.Chain, error) {
	g, done := w.reading()
	defer done()
	return g.ChainOf(ctx, eventID)
}

// Chain implements fengqiao.ChainService.
func (w *Swap) Chain(ctx context.Context, id string) (*fengqiao.Chain, error) {
	g, done := w.reading()
	defer done()
	return g.Chain(ctx, id)
}

// Chains implements fengqiao.ChainService.
func (w *Swap) Chains(ctx context.Context, f fengqiao.ChainFilter, limit int) ([]*fengqiao.Chain, error) {
	g, done := w.reading()
	defer done()
	return g.Chains(ctx, f, limit)
}

// Links implements fengqiao.ChainService.
func (w *Swap) Links(ctx context.Context, eventIDs []string) ([]fengqiao.Link, error) {
	g, done := w.reading()
	defer done()
	return g.Links(ctx, eventIDs)
}

// Membership returns the chain of every event that is in one.
func (w *Swap) Membership() (map[string]string, error) {
	g, done := w.reading()
	defer done()
	return g.Membership()
}

// Clusters implements fengqiao.ClusterService.
func (w *Swap) Clusters(ctx context.Context, f fengqiao.ClusterFilter, limit int) ([]*fengqiao.CaseCluster, error) {
	g, done := w.reading()
	defer done()
	return g.Clusters(ctx, f, limit)
}

// Cluster implements fengqiao.ClusterService.
func (w *Swap) Cluster(ctx context.Context, id string) (*fengqiao.CaseCluster, error) {
	g, done := w.reading()
	defer done()
	return g.Cluster(ctx, id)
}

// LoadRules makes the rules file at path the link rules (Store.LoadRules); a
// rebuild links under the rules in force when it began.
func (w *Swap) LoadRules(path string) error {
	w.lmu.Lock()
	defer w.lmu.Unlock()
	return w.cur.LoadRules(path)
}

// Rules returns the link rules in force.
func (w *Swap) Rules() *Rules {
	g, done := w.reading()
	defer done()
	return g.Rules()
}

// RulesStatus returns the status of the link rules in force (Store.RulesStatus).
func (w *Swap) RulesStatus() RulesStatus {
	g, done := w.reading()
	defer done()
	return g.RulesStatus()
}

// Watch reloads the rules file of the store in use every interval until stop is
// closed, and tells log (if not nil) of each version put in force and each file
// refused (Store.Watch).
func (w *Swap) Watch(stop <-chan struct{}, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			w.lmu.Lock() // the store in use stays in use meanwhile
			s := w.cur.Store
			before := s.RulesStatus()
			err := s.Reload()
			after := s.RulesStatus()
			w.lmu.Unlock()
			switch {
			case log == nil:
			case err != nil:
				log.Warn("串联规则文件有误，继续使用原规则", "file", after.File, "version", after.Version, "err", err)
			case after.LoadedAt != before.LoadedAt:
				log.Info("串联规则已重新加载", "file", after.File, "version", after.Version)
			}
		}
	}
}

// Close stops a rebuild in progress (its partial store is removed) and closes
// the store in use.
func (w *Swap) Close() error {
	if cancel := w.cancel.Load(); cancel != nil {
		(*cancel)()
	}
	w.rebuildMu.Lock()
	defer w.rebuildMu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cur.use.Lock() // after the last reader
	defer w.cur.use.Unlock()
	return w.cur.Close()
}

// Events is what a rebuild reads: every event the hub keeps.
type Events interface {
	// Scan calls fn with every event, a batch at a time, in any order.
	Scan(ctx context.Context, fn func([]*fengqiao.Event) error) error
	// Lookup returns the events of ids it holds, by id.
	Lookup(ctx context.Context, ids []string) (map[string]*fengqiao.Event, error)
}

// RebuildProgress is told how far a rebuild has come: the step (ReadingStep
// while the events are read, with no total; LinkingStep while they are linked)
// and done of total events.
type RebuildProgress func(step string, done, total int)

// The steps of a rebuild, as RebuildProgress is told them.
const (
	ReadingStep = "读取事件"
	LinkingStep = "串联事件"
)

// RebuildBatch is how many events a rebuild links at once, in reporting order.
const RebuildBatch = 1000

// ErrRebuilding is returned by Rebuild while another rebuild runs.
var ErrRebuilding = fengqiao.Errorf(fengqiao.EINVALID, "串联重建已在进行中，请等待其完成")

// Rebuild links every event from holds anew into a new store, in reporting order
// (ties by id), RebuildBatch at a time, as a first sync into an empty store
// would, then the batches the hub linked meanwhile in the order they came, and
// puts the new store in use once complete. The chain ids of the old store that
// the new one does not have resolve, as aliases, to the chain their events are
// in now. Readers are answered by the old store until the switch. When ctx ends
// or anything fails, the partial store is discarded and the old one stays. It
// returns how many events it linked.
func (w *Swap) Rebuild(ctx context.Context, from Events, progress RebuildProgress) (int, error) {
	if !w.rebuildMu.TryLock() {
		return 0, ErrRebuilding
	}
	defer w.rebuildMu.Unlock()
	if w.closed {
		return 0, errors.New("串联库已关闭")
	}
	if progress == nil {
		progress = func(string, int, int) {}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w.cancel.Store(&cancel)
	defer w.cancel.Store(nil)

	// Keep every batch linked from now on before reading the events: a batch
	// the read misses is kept, one it sees is linked again, which changes nothing.
	w.lmu.Lock()
	w.queue = [][]*fengqiao.Event{}
	old := w.cur
	w.lmu.Unlock()
	stopKeeping := func() {
		w.lmu.Lock()
		w.queue = nil
		w.lmu.Unlock()
	}

	n, _ := generationOf(w.base, old.dir)
	dir := w.base + ".r" + strconv.Itoa(n+1)
	if err := os.RemoveAll(dir); err != nil {
		stopKeeping()
		return 0, err
	}
	next, err := Open(dir, w.tree)
	if err != nil {
		stopKeeping()
		return 0, fmt.Errorf("新建串联库 %s 失败：%w", dir, err)
	}
	next.adoptRules(old.Store)
	g := &chainGen{Store: next, dir: dir}
	linked, err := w.fill(ctx, from, old.Store, next, progress)
	if err == nil {
		err = w.catchUp(ctx, g)
	}
	if err != nil {
		stopKeeping()
		return 0, errors.Join(err, next.Close(), os.RemoveAll(dir))
	}
	// The old store is closed once its last reader is done.
	old.use.Lock()
	old.Close()
	old.use.Unlock()
	os.RemoveAll(old.dir)
	return linked, nil
}

// fill links the events from holds into next in reporting order and carries the
// old store's chain ids over.
func (w *Swap) fill(ctx context.Context, from Events, old, next *Store, progress RebuildProgress) (int, error) {
	type ref struct {
		at int64
		id string
	}
	var refs []ref
	err := from.Scan(ctx, func(events []*fengqiao.Event) error {
		for _, e := range events {
			refs = append(refs, ref{e.ReportedAt.UnixNano(), e.ID})
		}
		progress(ReadingStep, len(refs), 0)
		return ctx.Err()
	})
	if err = errors.Join(err, ctx.Err()); err != nil {
		return 0, err
	}
	// An event held twice (in the hot and the cold index while it moves) is linked once.
	slices.SortFunc(refs, func(a, b ref) int { return strings.Compare(a.id, b.id) })
	refs = slices.CompactFunc(refs, func(a, b ref) bool { return a.id == b.id })
	slices.SortFunc(refs, func(a, b ref) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	total, linked := len(refs), 0
	progress(LinkingStep, 0, total)
	ids := make([]string, 0, RebuildBatch)
	for i := 0; i < total; i += RebuildBatch {
		ids = ids[:0]
		for _, r := range refs[i:min(i+RebuildBatch, total)] {
			ids = append(ids, r.id)
		}
		found, err := from.Lookup(ctx, ids)
		if err != nil {
			return 0, err
		}
		batch := make([]*fengqiao.Event, 0, len(ids))
		for _, id := range ids {
			if e := found[id]; e != nil { // gone since the scan: deleted
				batch = append(batch, e)
			}
		}
		if err := next.Link(ctx, batch); err != nil {
			return 0, err
		}
		linked += len(batch)
		progress(LinkingStep, min(i+RebuildBatch, total), total)
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
	return linked, carryChainIDs(ctx, old, next)
}

// catchUp links into next the batches the hub linked since the rebuild began,
// a round at a time while they keep coming, the last round with Link held off,
// and switches to next.
func (w *Swap) catchUp(ctx context.Context, next *chainGen) error {
	for round := 0; ; round++ {
		w.lmu.Lock()
		kept := w.queue
		last := len(kept) <= 4 || round >= 8
		if !last {
			w.queue = [][]*fengqiao.Event{}
			w.lmu.Unlock()
		}
		for _, batch := range kept {
			if err := ctx.Err(); err != nil {
				if last {
					w.lmu.Unlock()
				}
				return err
			}
			if err := next.Link(ctx, batch); err != nil {
				if last {
					w.lmu.Unlock()
				}
				return err
			}
		}
		if !last {
			continue
		}
		err := ctx.Err()
		if err == nil {
			err = writeMarker(w.base+".current", filepath.Base(next.dir))
		}
		if err == nil {
			w.mu.Lock()
			w.cur = next
			w.mu.Unlock()
			w.queue = nil
		}
		w.lmu.Unlock()
		return err
	}
}

// adoptRules puts in force in s the rules in force in from, with the file they
// came from (reloaded when it changes).
func (s *Store) adoptRules(from *Store) {
	from.rulesMu.Lock()
	file, mod := from.rulesFile, from.rulesMod
	from.rulesMu.Unlock()
	s.rulesMu.Lock()
	s.rulesFile, s.rulesMod = file, mod
	s.rulesMu.Unlock()
	s.install(from.rules.Load()) // an empty store has no window to read again
}

// carryChainIDs keeps the chain ids users hold resolving: an id of old (a chain
// or an alias) that next does not know becomes an alias of the chain that the
// event it was named after is in now. An id whose event is in no chain in next
// is left out: that event could start a chain of that id later.
func carryChainIDs(ctx context.Context, old, next *Store) error {
	known := map[string]bool{}
	for _, space := range []string{spaceChains, spaceAlias} {
		prefix := key(space, "")
		if err := scan(old.db, prefix, false, func(k, _ []byte) bool {
			known[string(k[len(prefix):])] = true
			return true
		}); err != nil {
			return err
		}
	}
	if len(known) == 0 {
		return nil
	}
	b := next.db.NewBatch()
	defer b.Close()
	prefix := key(spaceMember, "")
	var failed error
	err := scan(old.db, prefix, false, func(k, _ []byte) bool {
		event := string(k[len(prefix):])
		id := "CH" + strings.ToUpper(shortHash(event))
		if !known[id] {
			return true
		}
		delete(known, id)
		now, err := get(next.db, key(spaceMember, event))
		if err == nil && (now == nil || string(now) == id) {
			return true
		}
		var taken []byte
		if err == nil {
			taken, err = get(next.db, key(spaceChains, id))
		}
		if err == nil && taken == nil {
			taken, err = get(next.db, key(spaceAlias, id))
		}
		if err == nil && taken == nil {
			err = b.Set(key(spaceAlias, id), now, nil)
		}
		failed = err
		return err == nil && ctx.Err() == nil
	})
	if err = errors.Join(err, failed, ctx.Err()); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// writeMarker writes name into path atomically and durably.
func writeMarker(path, name string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.WriteString(name + "\n")
	if err == nil {
		err = f.Sync()
	}
	if err := errors.Join(err, f.Close()); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
