// Package sim runs the upstream government systems as real HTTP servers, each in
// its own API style, serving a synthetic world and injecting faults on demand.
// It shares no code or types with the hub's connectors: only the wire format.
package sim

import (
	"slices"
	"sort"
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
	l := &ledger[T]{key: key, items: append([]T(nil), items...)}
	sort.Slice(l.items, func(i, j int) bool { at, id := key(l.items[j]); return l.less(l.items[i], at, id) })
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
