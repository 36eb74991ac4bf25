package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"fengqiao"
)

// A hub with a retention period moves older events out of its hot index, into
// the cold one or nowhere as configured, and its cockpit counts them still.
func TestHubRetention(t *testing.T) {
	t.Parallel()
	for _, drop := range []bool{false, true} {
		hub, err := OpenHub(Config{Addr: "127.0.0.1:0", Data: t.TempDir(), Retention: Retention{Years: 1, Drop: drop}},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer hub.Close()
		ctx := context.Background()
		now := time.Now()
		event := func(id string, at time.Time) *fengqiao.Event {
			return &fengqiao.Event{ID: fengqiao.EventID(fengqiao.SourceHotline12345, id), Source: fengqiao.SourceHotline12345, SourceID: id,
				Kind: fengqiao.KindComplaint, Title: "路灯不亮", Status: fengqiao.StatusResolved, OrgCode: "331081100010", ReportedAt: at, UpdatedAt: at}
		}
		old, recent := event("OLD", now.AddDate(-2, 0, 0)), event("NEW", now.AddDate(0, 0, -1))
		if err := hub.Index.Upsert(ctx, []*fengqiao.Event{old, recent}); err != nil {
			t.Fatal(err)
		}
		if n, err := hub.Retain(ctx, now); n != 1 || err != nil {
			t.Fatalf("drop %v: retention moved %d events (%v), want the one older than a year", drop, n, err)
		}
		if n, _ := hub.Index.Count(ctx, fengqiao.EventFilter{}); n != 1 {
			t.Errorf("drop %v: %d events searched, want the recent one", drop, n)
		}
		_, err = hub.Index.Get(ctx, old.ID)
		if drop && fengqiao.ErrorCode(err) != fengqiao.ENOTFOUND || !drop && err != nil {
			t.Errorf("drop %v: reading the old event by id: %v", drop, err)
		}
		f, err := hub.figures.Figures(ctx, hub.Tree.Root().Code, now.AddDate(-3, 0, 0), now, fengqiao.Month)
		if err != nil || f.Total != 2 {
			t.Errorf("drop %v: the cockpit counts %d events over three years (%v), want 2", drop, f.Total, err)
		}
	}
}
