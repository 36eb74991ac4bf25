package connectors_test

import (
	"context"
	"testing"
)

// TestCatchingUpShowsProgress: while a connector catches up, the runner knows
// how many records it has read and, from what the upstream says is left, the
// total and the time left; once caught up, no progress is shown.
func TestCatchingUpShowsProgress(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	h := b.open(t, nil, b.hotlineConnector(50))
	ctx := context.Background()
	all := len(b.world.Hotline)
	c := h.runner.Connectors()[0]
	if caughtUp, err := h.runner.SyncBatch(ctx, c); err != nil || caughtUp {
		t.Fatalf("first batch: caught up %v, %v", caughtUp, err)
	}
	p := h.runner.Progress()["hotline12345"]
	if p == nil || p.Read != 50 || p.Remaining != all-50 || p.Total != all || p.Rate <= 0 || p.ETA < 0 {
		t.Fatalf("after one page of %d records: %+v", all, p)
	}
	states, err := h.runner.States()
	if err != nil || states[0].Progress == nil || states[0].Progress.Read != 50 {
		t.Fatalf("States while catching up: %+v %v", states, err)
	}
	if caughtUp, err := h.runner.SyncBatch(ctx, c); err != nil || caughtUp {
		t.Fatalf("second batch: caught up %v, %v", caughtUp, err)
	}
	// The next page is read from the last one's time, whose records are read
	// again (the cursor's ties): the total is an estimate, within a page.
	if p := h.runner.Progress()["hotline12345"]; p == nil || p.Read != 100 || p.Total < all-50 || p.Total > all+50 {
		t.Fatalf("after two pages of %d records: %+v", all, p)
	}
	if err := h.runner.SyncUntilCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if p := h.runner.Progress(); len(p) != 0 {
		t.Errorf("caught up, progress still shown: %+v", p)
	}
	if states, _ := h.runner.States(); states[0].Progress != nil {
		t.Errorf("caught up, States shows progress %+v", states[0].Progress)
	}
}
