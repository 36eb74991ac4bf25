package search

import (
	"context"
	"errors"
	"maps"
	"time"

	"fengqiao"
)

// Tiered is the hot index, which takes new events and serves searches, counts
// and facets, over a cold one that keeps the events retention moved out of it,
// readable by id (an old event's page, the timeline of a chain that began years
// ago). Delete removes events from the hot index only: that is how they move.
type Tiered struct {
	fengqiao.Index // hot
	Cold           fengqiao.Index
}

// Get implements fengqiao.Index: from the hot index, else the cold one.
func (t *Tiered) Get(ctx context.Context, id string) (*fengqiao.Event, error) {
	return lookupOne(ctx, t, id)
}

// Lookup implements fengqiao.Index: from the hot index, and what it does not
// hold from the cold one.
func (t *Tiered) Lookup(ctx context.Context, ids []string) (map[string]*fengqiao.Event, error) {
	found, err := t.Index.Lookup(ctx, ids)
	if err != nil || len(found) == len(ids) {
		return found, err
	}
	var rest []string
	for _, id := range ids {
		if found[id] == nil {
			rest = append(rest, id)
		}
	}
	cold, err := t.Cold.Lookup(ctx, rest)
	maps.Copy(cold, found) // the hot version wins, should a move have stopped half way
	return cold, err
}

// Scan reads every event of the hot index, when it can scan (cockpit.Scanner).
func (t *Tiered) Scan(ctx context.Context, fn func([]*fengqiao.Event) error) error {
	s, ok := t.Index.(interface {
		Scan(context.Context, func([]*fengqiao.Event) error) error
	})
	if !ok {
		return errors.ErrUnsupported
	}
	return s.Scan(ctx, fn)
}

// Close closes both indexes.
func (t *Tiered) Close() error { return errors.Join(t.Index.Close(), t.Cold.Close()) }

// Retain moves the events reported before horizon out of index (through its
// Delete): into cold first when there is one, else they are dropped. A batch is
// durable in cold before it leaves index, so a run stopped half way leaves events
// in both, and the next run finishes the move. moved is told how many have left
// so far. It returns how many left.
func Retain(ctx context.Context, index, cold fengqiao.Index, horizon time.Time, moved func(n int)) (int, error) {
	n := 0
	for {
		page, err := index.Search(ctx, fengqiao.EventQuery{Filter: fengqiao.EventFilter{To: &horizon}, First: fengqiao.MaxPageSize})
		if err != nil || len(page.Events) == 0 {
			return n, err
		}
		if cold != nil {
			if err := cold.Upsert(ctx, page.Events); err != nil {
				return n, err
			}
		}
		ids := make([]string, len(page.Events))
		for i, e := range page.Events {
			ids[i] = e.ID
		}
		if err := index.Delete(ctx, ids); err != nil {
			return n, err
		}
		n += len(ids)
		if moved != nil {
			moved(n)
		}
	}
}
