package connectors

import (
	"context"
	"fmt"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"golang.org/x/sync/singleflight"

	"fengqiao"
)

// Live reads events from their upstreams as they are now, for fields that must
// be current (an event's handling record). Each read goes through the upstream's
// breaker with a timeout that is its whole budget: a failure, a timeout or an
// open breaker answers with the last known version marked stale, naming the
// upstream, never later than the timeout. Concurrent reads of one event share one
// call, and a fresh read is reused for FreshFor.
type Live struct {
	runner   *Runner
	timeout  time.Duration
	freshFor time.Duration
	fresh    *ristretto.Cache[string, fengqiao.LiveRecord] // reads reused for freshFor
	last     *ristretto.Cache[string, fengqiao.LiveRecord] // the last good read of each event, for stale answers
	flight   singleflight.Group
}

var _ fengqiao.LiveReader = (*Live)(nil)

// liveRetries is how many times a live read retries a failed upstream call: a
// stale answer is at hand, so a live read does not wait out a retry cycle (the
// sync, which has none, does).
const liveRetries = 1

// NewLive returns the live reader of the runner's connectors. timeout bounds one
// read (default 2 s); freshFor is how long a read is reused (default 10 s).
func NewLive(r *Runner, timeout, freshFor time.Duration) (*Live, error) {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if freshFor <= 0 {
		freshFor = 10 * time.Second
	}
	fresh, err := ristretto.NewCache(&ristretto.Config[string, fengqiao.LiveRecord]{NumCounters: 100_000, MaxCost: 10_000, BufferItems: 64})
	if err != nil {
		return nil, err
	}
	last, err := ristretto.NewCache(&ristretto.Config[string, fengqiao.LiveRecord]{NumCounters: 1_000_000, MaxCost: 100_000, BufferItems: 64})
	if err != nil {
		return nil, err
	}
	return &Live{runner: r, timeout: timeout, freshFor: freshFor, fresh: fresh, last: last}, nil
}

// Current implements fengqiao.LiveReader.
func (l *Live) Current(ctx context.Context, e *fengqiao.Event) fengqiao.LiveRecord {
	if rec, ok := l.fresh.Get(e.ID); ok {
		return rec
	}
	v, _, _ := l.flight.Do(e.ID, func() (any, error) {
		rec := l.read(ctx, e)
		if !rec.Stale {
			l.fresh.SetWithTTL(e.ID, rec, 1, l.freshFor)
			l.last.Set(e.ID, rec, 1)
			l.fresh.Wait()
			l.last.Wait()
		}
		return rec, nil
	})
	return v.(fengqiao.LiveRecord)
}

func (l *Live) read(ctx context.Context, e *fengqiao.Event) fengqiao.LiveRecord {
	var conn fengqiao.Connector
	for _, c := range l.runner.Connectors() {
		if fengqiao.OriginOf(c) == e.Origin() {
			conn = c
		}
	}
	if conn == nil {
		return fengqiao.LiveRecord{Event: e, Stale: true, Err: fengqiao.Errorf(fengqiao.EUNAVAILABLE, "没有连接%s的连接器", e.Origin())}
	}
	// The timeout is the read's whole budget: one retry at most, and only if its
	// wait fits in what is left (Upstream.Do); whatever the connector does, the
	// answer comes when the budget is spent.
	ctx, cancel := context.WithTimeout(withRetries(context.WithoutCancel(ctx), liveRetries), l.timeout)
	defer cancel()
	type fetched struct {
		event *fengqiao.Event
		err   error
	}
	done := make(chan fetched, 1)
	go func() {
		fresh, err := conn.Fetch(ctx, e.SourceID)
		done <- fetched{fresh, err}
	}()
	var fresh *fengqiao.Event
	var err error
	select {
	case f := <-done:
		fresh, err = f.event, f.err
	case <-ctx.Done():
		err = fmt.Errorf("%w: %w", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s未在%v内答复", conn.Title(), l.timeout), ctx.Err())
	}
	if err == nil && fresh != nil {
		return fengqiao.LiveRecord{Event: fresh, ReadAt: time.Now(), Upstream: conn.Title()}
	}
	last, ok := l.last.Get(e.ID)
	if !ok {
		last = fengqiao.LiveRecord{Event: e} // the indexed version is the last known
	}
	last.Stale, last.Upstream = true, conn.Title()
	last.Err = err
	if err == nil {
		last.Err = fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s未返回该记录", conn.Title())
	}
	return last
}
