package connectors_test

import (
	"context"
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
