// Package sim runs the upstream government systems as real HTTP servers, each in
// its own API style, serving a synthetic world and injecting faults on demand.
// It shares no code or types with the hub's connectors: only the wire format.
package sim

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// ledger is an upstream's table of records, ordered by (update time, id) as the
// incremental APIs of these systems return them. It is safe for concurrent use.
type ledger[T any] struct {
	mu    sync.RWMutex
	items []T
	byID  map[string]int
	key   func(T) (time.Time, string)
}

func newLedger[T any](items []T, key func(T) (time.Time, string)) *ledger[T] {
	l := &ledger[T]{key: key, items: inUpdateOrder(items, key), byID: make(map[string]int, len(items))}
	l.reindex(0)
	return l
}

// put adds a record or replaces the one with the same id, keeping the order.
func (l *ledger[T]) put(it T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, id := l.key(it)
	from := len(l.items)
	if i, ok := l.byID[id]; ok {
		l.items = slices.Delete(l.items, i, i+1)
		from = i
	}
	i := sort.Search(len(l.items), func(i int) bool { return !l.less(l.items[i], at, id) })
	l.items = slices.Insert(l.items, i, it)
	l.reindex(min(from, i))
}

// reindex refreshes the id → position map from position from on.
func (l *ledger[T]) reindex(from int) {
	if l.byID == nil {
		l.byID = map[string]int{}
	}
	for j := from; j < len(l.items); j++ {
		_, id := l.key(l.items[j])
		l.byID[id] = j
	}
}

func (l *ledger[T]) less(it T, at time.Time, id string) bool {
	t, i := l.key(it)
	return t.Before(at) || t.Equal(at) && i < id
}

// since returns records updated at or after t, skipping offset and at most limit, and
// how many there are in all.
func (l *ledger[T]) since(t time.Time, offset, limit int) ([]T, int) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	first := sort.Search(len(l.items), func(i int) bool { at, _ := l.key(l.items[i]); return !at.Before(t) })
	rest := l.items[first:]
	total := len(rest)
	if offset >= total {
		return nil, total
	}
	rest = rest[offset:]
	if len(rest) > limit {
		rest = rest[:limit]
	}
	return append([]T(nil), rest...), total
}

// get returns the record with the given id.
func (l *ledger[T]) get(id string) (T, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	i, ok := l.byID[id]
	if !ok {
		var zero T
		return zero, false
	}
	return l.items[i], true
}

// len returns how many records there are.
func (l *ledger[T]) len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.items)
}

// feed is an upstream's change feed: every new version of a record is appended at
// the next position, and readers page through it by position. It is safe for
// concurrent use.
type feed[T any] struct {
	mu     sync.RWMutex
	log    []T
	latest map[string]T
	id     func(T) string
}

func newFeed[T any](id func(T) string) *feed[T] {
	return &feed[T]{latest: map[string]T{}, id: id}
}

// put appends the version that version makes for its position (1-based).
func (f *feed[T]) put(version func(pos int) T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := version(len(f.log) + 1)
	f.log = append(f.log, it)
	f.latest[f.id(it)] = it
}

// after returns at most limit versions after position pos, and the last position.
func (f *feed[T]) after(pos, limit int) ([]T, int) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	rest := f.log[min(max(pos, 0), len(f.log)):]
	return append([]T(nil), rest[:min(limit, len(rest))]...), len(f.log)
}

// get returns the latest version of a record.
func (f *feed[T]) get(id string) (T, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	it, ok := f.latest[id]
	return it, ok
}

// len returns how many distinct records the feed holds.
func (f *feed[T]) len() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.latest)
}

// inUpdateOrder returns a copy of items sorted by update time, then id. Each
// item's key is read once, so that a world of millions sorts in a second.
func inUpdateOrder[T any](items []T, key func(T) (time.Time, string)) []T {
	type keyed struct {
		at   int64
		id   string
		item T
	}
	ks := make([]keyed, len(items))
	for i, it := range items {
		at, id := key(it)
		ks[i] = keyed{at.UnixNano(), id, it}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return strings.Compare(a.id, b.id)
	})
	out := make([]T, len(ks))
	for i, k := range ks {
		out[i] = k.item
	}
	return out
}
