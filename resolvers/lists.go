package resolvers

import (
	"fmt"
	"sync"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"golang.org/x/sync/singleflight"

	"fengqiao"
)

// listTTL is how long a cockpit's lists are reused: as long as its figures.
const listTTL = 30 * time.Second

// lists caches the cockpit's lists (top chains, case clusters, risks) like the
// cockpit package caches its figures, so that the whole query of the cockpit
// page is one computation for every screen showing the same unit and period. A
// list depends on the caller only through the subtree they see, which is in the
// key; looking at what a list shows is audited on every request all the same.
type lists struct {
	once   sync.Once
	cache  *ristretto.Cache[string, any]
	flight singleflight.Group
}

// cockpitList returns the list kind of n items for the cockpit figures obj as seen by
// the caller, computing it once for every caller who sees the same subtree.
func cockpitList[T any](r *Resolver, caller *fengqiao.Principal, kind string, obj *fengqiao.CockpitFigures, n int, compute func() (T, error)) (T, error) {
	l := r.lists.open()
	key := fmt.Sprintf("%s|%s|%s|%d|%d|%d", kind, caller.OrgCode, obj.OrgCode, obj.From.UnixNano(), obj.To.UnixNano(), n)
	if v, ok := l.cache.Get(key); ok {
		return v.(T), nil
	}
	v, err, _ := l.flight.Do(key, func() (any, error) {
		if v, ok := l.cache.Get(key); ok {
			return v, nil // computed by a flight that ended after this caller missed the cache
		}
		v, err := compute()
		if err == nil {
			l.cache.SetWithTTL(key, v, 1, listTTL)
			l.cache.Wait()
		}
		return v, err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

// ListCacheMetrics are the cockpit lists cache's hits, misses and evictions
// (/metrics); nil before the first list is asked for.
func (r *Resolver) ListCacheMetrics() *ristretto.Metrics {
	return r.lists.open().cache.Metrics
}

// open makes the cache on first use.
func (l *lists) open() *lists {
	l.once.Do(func() {
		l.cache, _ = ristretto.NewCache(&ristretto.Config[string, any]{NumCounters: 10_000, MaxCost: 1_000, BufferItems: 64, Metrics: true})
	})
	return l
}
