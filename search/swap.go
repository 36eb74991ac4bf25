package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"fengqiao"
)

// Swap is the embedded index that can be built anew while it serves (fengqiao
// reindex). Readers always use one complete index, the current generation; a
// rebuild fills the next generation, in a sibling directory, from the events
// the current one stores, while every write goes to both; then the next one
// takes the current one's place in one step and the old directory is removed.
//
// On disk the generations are base (the first) and base.r1, base.r2, …; the file
// base.current names the one in use. It is written only once a rebuild is
// complete, so a crash mid-rebuild leaves the old index in use, and OpenSwap
// removes every other generation directory it finds (a partial rebuild, or the
// old one left by a crash after the switch).
type Swap struct {
	base string

	// mu guards cur: readers take it shared only to pin the current generation.
	mu  sync.RWMutex
	cur *generation

	// wmu orders writes against a rebuild: writes hold it shared; starting a
	// rebuild, copying one batch into the next generation and the switch hold it
	// exclusively. next, dirty and failed are guarded by it (dirty and failed
	// also by dmu, as shared writers set them).
	wmu    sync.RWMutex
	next   *generation
	dmu    sync.Mutex
	dirty  map[string]struct{} // ids written (or deleted) since the rebuild began
	failed error               // a write the next generation refused: the rebuild is void

	rebuildMu sync.Mutex // one rebuild at a time; Close waits for it
	cancel    atomic.Pointer[context.CancelFunc]
	closed    bool // guarded by rebuildMu
}

// generation is one index directory. Readers hold use shared while they read it,
// so it is closed only once the last of them is done.
type generation struct {
	*Bleve
	dir string
	use sync.RWMutex
}

var _ fengqiao.Index = (*Swap)(nil)

// OpenSwap opens the embedded index whose first generation lives in base
// (…/events.bleve), using the generation base.current names, and removes the
// generation directories not in use.
func OpenSwap(base string) (*Swap, error) {
	dir := base
	if name, err := os.ReadFile(base + ".current"); err == nil {
		name := strings.TrimSpace(string(name))
		if _, ok := generationNumber(base, filepath.Join(filepath.Dir(base), name)); ok {
			if _, err := os.Stat(filepath.Join(filepath.Dir(base), name)); err == nil {
				dir = filepath.Join(filepath.Dir(base), name)
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := removeGenerations(base, dir); err != nil {
		return nil, err
	}
	b, err := OpenBleve(dir)
	if err != nil {
		return nil, err
	}
	return &Swap{base: base, cur: &generation{Bleve: b, dir: dir}}, nil
}

// generationNumber is dir's generation: 0 for base, n for base.rn.
func generationNumber(base, dir string) (int, bool) {
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
		if _, ok := generationNumber(base, dir); ok && dir != keep {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// Dir is the directory of the generation in use.
func (s *Swap) Dir() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur.dir
}

// reading pins the current generation for one read; call done after it.
func (s *Swap) reading() (g *generation, done func()) {
	s.mu.RLock()
	g = s.cur
	g.use.RLock()
	s.mu.RUnlock()
	return g, g.use.RUnlock
}

// Upsert implements fengqiao.Index: into the current generation, and during a
// rebuild into the next one too.
func (s *Swap) Upsert(ctx context.Context, events []*fengqiao.Event) error {
	return s.write(events2ids(events), func(b *Bleve) error { return b.Upsert(ctx, events) })
}

// Delete implements fengqiao.Index, like Upsert.
func (s *Swap) Delete(ctx context.Context, ids []string) error {
	return s.write(ids, func(b *Bleve) error {
		d, ok := any(b).(interface {
			Delete(context.Context, []string) error
		})
		if !ok {
			return errors.New("索引不支持删除")
		}
		return d.Delete(ctx, ids)
	})
}

func events2ids(events []*fengqiao.Event) []string {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

// write applies one write to the current generation and, during a rebuild, to
// the next one, marking its ids so the rebuild's copy does not overwrite them
// with what it read before. A write the next generation refuses voids the
// rebuild, not the write.
func (s *Swap) write(ids []string, apply func(*Bleve) error) error {
	s.wmu.RLock()
	defer s.wmu.RUnlock()
	if err := apply(s.cur.Bleve); err != nil {
		return err
	}
	if s.next == nil {
		return nil
	}
	s.dmu.Lock()
	for _, id := range ids {
		s.dirty[id] = struct{}{}
	}
	void := s.failed != nil
	s.dmu.Unlock()
	if void {
		return nil
	}
	if err := apply(s.next.Bleve); err != nil {
		s.dmu.Lock()
		s.failed = errors.Join(s.failed, err)
		s.dmu.Unlock()
	}
	return nil
}

// Get implements fengqiao.Index.
func (s *Swap) Get(ctx context.Context, id string) (*fengqiao.Event, error) {
	g, done := s.reading()
	defer done()
	return g.Get(ctx, id)
}

// Lookup implements fengqiao.Index.
func (s *Swap) Lookup(ctx context.Context, ids []string) (map[string]*fengqiao.Event, error) {
	g, done := s.reading()
	defer done()
	return g.Lookup(ctx, ids)
}

// Search implements fengqiao.Index.
func (s *Swap) Search(ctx context.Context, q fengqiao.EventQuery) (*fengqiao.EventPage, error) {
	g, done := s.reading()
	defer done()
	return g.Search(ctx, q)
}

// Count implements fengqiao.Index.
func (s *Swap) Count(ctx context.Context, f fengqiao.EventFilter) (int, error) {
	g, done := s.reading()
	defer done()
	return g.Count(ctx, f)
}

// Facets implements fengqiao.Index.
func (s *Swap) Facets(ctx context.Context, f fengqiao.EventFilter) (*fengqiao.Facets, error) {
	g, done := s.reading()
	defer done()
	return g.Facets(ctx, f)
}

// Scan reads every event of the current generation (cockpit.Scanner).
func (s *Swap) Scan(ctx context.Context, fn func([]*fengqiao.Event) error) error {
	g, done := s.reading()
	defer done()
	return g.Scan(ctx, fn)
}

// ErrRebuilding is returned by Rebuild while another rebuild runs.
var ErrRebuilding = fengqiao.Errorf(fengqiao.EINVALID, "索引重建已在进行中，请等待其完成")

// Rebuild builds the index anew from the events the current generation stores
// and puts it in use once complete, telling progress how many of about how many
// events are copied. Writes keep arriving meanwhile and reach both generations;
// reads are answered by the current one until the switch. When ctx ends or
// anything fails, the partial generation is discarded and the current one stays.
// It returns how many events the new generation holds.
func (s *Swap) Rebuild(ctx context.Context, progress func(done, total int)) (int, error) {
	if !s.rebuildMu.TryLock() {
		return 0, ErrRebuilding
	}
	defer s.rebuildMu.Unlock()
	if s.closed {
		return 0, errors.New("索引已关闭")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.cancel.Store(&cancel)
	defer s.cancel.Store(nil)

	cur, done := s.reading()
	held, err := s.rebuild(ctx, cur, progress)
	done() // the old generation is closed once its last reader is done
	if err == nil {
		s.retire(cur)
	}
	return held, err
}

// rebuild fills the next generation from cur and switches to it.
func (s *Swap) rebuild(ctx context.Context, cur *generation, progress func(done, total int)) (int, error) {
	total, err := cur.Count(ctx, fengqiao.EventFilter{})
	if err != nil {
		return 0, err
	}
	n, _ := generationNumber(s.base, cur.dir)
	dir := s.base + ".r" + strconv.Itoa(n+1)
	if err := os.RemoveAll(dir); err != nil {
		return 0, err
	}
	idx, err := newBleveIndex(dir)
	if err != nil {
		return 0, fmt.Errorf("新建索引 %s 失败：%w", dir, err)
	}
	next := &generation{Bleve: &Bleve{index: idx}, dir: dir}
	s.wmu.Lock()
	s.next, s.dirty, s.failed = next, map[string]struct{}{}, nil
	s.wmu.Unlock()

	copied := 0
	err = cur.Scan(ctx, func(events []*fengqiao.Event) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.copyBatch(ctx, next, events); err != nil {
			return err
		}
		copied += len(events)
		if progress != nil {
			progress(min(copied, total), total)
		}
		return nil
	})
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = s.switchTo(next)
	}
	if err != nil {
		s.wmu.Lock()
		s.next, s.dirty = nil, nil
		s.wmu.Unlock()
		err = errors.Join(err, next.Close(), os.RemoveAll(dir))
		return 0, err
	}
	held, err := next.Count(context.Background(), fengqiao.EventFilter{})
	if progress != nil {
		progress(total, total)
	}
	return held, err
}

// copyBatch writes events the scan read into next, but those a write brought
// since the rebuild began: they are there already, and newer. No write is in
// flight meanwhile.
func (s *Swap) copyBatch(ctx context.Context, next *generation, events []*fengqiao.Event) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.failed != nil {
		return s.failed
	}
	fresh := slices.DeleteFunc(events, func(e *fengqiao.Event) bool { _, ok := s.dirty[e.ID]; return ok })
	return next.Upsert(ctx, fresh)
}

// switchTo puts next in use: no write is in flight, every one so far reached
// both generations, and the marker names next before readers see it.
func (s *Swap) switchTo(next *generation) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.failed != nil {
		return s.failed
	}
	if err := writeMarker(s.base+".current", filepath.Base(next.dir)); err != nil {
		return err
	}
	s.mu.Lock()
	s.cur = next
	s.mu.Unlock()
	s.next, s.dirty = nil, nil
	return nil
}

// retire closes an old generation once no reader holds it and removes it.
func (s *Swap) retire(old *generation) {
	old.use.Lock()
	defer old.use.Unlock()
	old.Close()
	os.RemoveAll(old.dir)
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

// Close stops a rebuild in progress (its partial generation is removed) and
// closes the index.
func (s *Swap) Close() error {
	if cancel := s.cancel.Load(); cancel != nil {
		(*cancel)()
	}
	s.rebuildMu.Lock()
	defer s.rebuildMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.Close()
}
