package connectors_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/hotline12345"
	"fengqiao/tools/sim"
)

func TestLiveReadsStayUpWhenTheUpstreamIsDown(t *testing.T) {
	t.Parallel()
	county := newCounty(t, 0)
	conn := hotline12345.New(hotline12345.Config{BaseURL: county.URL["hotline"], APIKey: county.Secret, Upstream: testUpstream}, nil)
	h := openHub(t, county.World.Tree, []fengqiao.Connector{conn})
	h.syncAll(t)
	live, err := connectors.NewLive(h.runner, 300*time.Millisecond, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := h.index.Get(ctx, fengqiao.EventID(fengqiao.SourceHotline12345, county.World.Hotline[0].GDBH))
	if err != nil {
		t.Fatal(err)
	}

	// Many screens at once: one call upstream.
	before := county.Hotline.Requests()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if rec := live.Current(ctx, e); rec.Stale || rec.ReadAt.IsZero() || rec.Event.SourceID != e.SourceID {
				t.Errorf("live read: %+v", rec)
			}
		})
	}
	wg.Wait()
	if n := county.Hotline.Requests() - before; n != 1 {
		t.Fatalf("20 concurrent reads made %d upstream calls, want 1", n)
	}

	// The upstream goes down: the last good read comes back marked stale, naming
	// the upstream, and the breaker soon answers without waiting.
	good := live.Current(ctx, e)
	county.Switch("hotline").Set(sim.Faults{Down: true})
	time.Sleep(30 * time.Millisecond) // past freshFor
	for range 5 {
		rec := live.Current(ctx, e)
		if !rec.Stale || rec.Err == nil || rec.Upstream != "12345政务服务热线" || !rec.ReadAt.Equal(good.ReadAt) {
			t.Fatalf("down: %+v", rec)
		}
	}
	start := time.Now()
	if rec := live.Current(ctx, e); !rec.Stale || conn.BreakerState() != "open" || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("with the breaker %s, a read took %v", conn.BreakerState(), time.Since(start))
	}
	// Back up: fresh again once the breaker lets a call through.
	county.Switch("hotline").Set(sim.Faults{})
	time.Sleep(testUpstream.BreakerCooldown + 30*time.Millisecond)
	if rec := live.Current(ctx, e); rec.Stale {
		t.Fatalf("after recovery: %+v", rec)
	}
}

// The first live reads after an upstream goes down, or starts to hang, answer
// stale with the upstream named from within the read's own budget: at most one
// retry, and none whose wait would outlast the budget, never the sync's retry
// cycle (here 3 retries, 200 ms to 1 s apart).
func TestLiveReadJustAfterTheUpstreamGoesDown(t *testing.T) {
	t.Parallel()
	county := newCounty(t, 0)
	slowRetries := connectors.UpstreamConfig{Timeout: 10 * time.Second, RetryMax: 3, RetryWaitMin: 200 * time.Millisecond,
		RetryWaitMax: time.Second, BreakerFailures: 100, BreakerCooldown: time.Minute}
	conn := hotline12345.New(hotline12345.Config{BaseURL: county.URL["hotline"], APIKey: county.Secret, Upstream: slowRetries}, nil)
	h := openHub(t, county.World.Tree, []fengqiao.Connector{conn})
	h.syncAll(t)
	ctx := context.Background()
	var events []*fengqiao.Event
	for _, o := range county.World.Hotline[:4] {
		e, err := h.index.Get(ctx, fengqiao.EventID(fengqiao.SourceHotline12345, o.GDBH))
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	const title = "12345政务服务热线"
	stale := func(t *testing.T, live *connectors.Live, e *fengqiao.Event, wantAttempts uint64, good fengqiao.LiveRecord) {
		t.Helper()
		before := county.Hotline.Requests()
		rec := live.Current(ctx, e)
		attempts := county.Hotline.Requests() - before
		if !rec.Stale || rec.Upstream != title || fengqiao.ErrorCode(rec.Err) != fengqiao.EUNAVAILABLE || !strings.Contains(fengqiao.ErrorMessage(rec.Err), title) {
			t.Fatalf("stale answer: %+v", rec)
		}
		if !rec.ReadAt.Equal(good.ReadAt) || rec.Event.SourceID != e.SourceID {
			t.Fatalf("stale answer %+v is not the last good read %+v", rec, good)
		}
		if attempts > wantAttempts {
			t.Fatalf("a live read made %d attempts upstream, want at most %d", attempts, wantAttempts)
		}
	}

	roomy, err := connectors.NewLive(h.runner, time.Minute, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	tight, err := connectors.NewLive(h.runner, 100*time.Millisecond, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	goodRoomy, goodTight := roomy.Current(ctx, events[0]), tight.Current(ctx, events[1])
	if goodRoomy.Stale || goodTight.Stale {
		t.Fatalf("up: %+v %+v", goodRoomy, goodTight)
	}
	time.Sleep(5 * time.Millisecond) // past freshFor

	county.Switch("hotline").Set(sim.Faults{Down: true})
	// A minute's budget: one retry, not the cycle of three.
	stale(t, roomy, events[0], 2, goodRoomy)
	// 100 ms: the first retry's 200 ms wait does not fit, so none is made.
	stale(t, tight, events[1], 1, goodTight)

	// Hanging: the read answers when its budget is spent, long before the
	// upstream's own 10 s attempt timeout.
	county.Switch("hotline").Set(sim.Faults{HangRate: 1})
	done := make(chan struct{})
	go func() {
		defer close(done)
		stale(t, tight, events[1], 1, goodTight)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second): // a bound on a hang, not a figure
		t.Fatal("a live read of a hanging upstream waited for the upstream")
	}
	// An event never read live answers with its indexed version, still naming the upstream.
	rec := tight.Current(ctx, events[2])
	if !rec.Stale || rec.Upstream != title || !rec.ReadAt.IsZero() || rec.Event.SourceID != events[2].SourceID {
		t.Fatalf("never read: %+v", rec)
	}
	county.Switch("hotline").Set(sim.Faults{})
}
