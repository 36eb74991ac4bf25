package cockpit_test

import (
	"context"
	"flag"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/cockpit"
)

var benchEvents = flag.Int("tally.events", 1_000_000, "events in the tally the cockpit benchmarks count")

// countingOnly is an index that keeps nothing but how many events it took: the
// benchmarks measure the tally, not an index.
type countingOnly struct {
	fengqiao.Index
	n int
}

func (c *countingOnly) Upsert(_ context.Context, events []*fengqiao.Event) error {
	c.n += len(events)
	return nil
}

func (c *countingOnly) Count(context.Context, fengqiao.EventFilter) (int, error) { return c.n, nil }

// Lookup answers every id with an event of that id: the benchmarks measure the
// rows' part of a page.
func (c *countingOnly) Lookup(_ context.Context, ids []string) (map[string]*fengqiao.Event, error) {
	out := map[string]*fengqiao.Event{}
	for _, id := range ids {
		out[id] = &fengqiao.Event{ID: id}
	}
	return out, nil
}
func (c *countingOnly) Close() error { return nil }

// benchTally fills a tally with -tally.events random events over two years and
// reports what filling it cost and the memory its rows take.
func benchTally(b *testing.B) *cockpit.Tally {
	b.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tally, err := cockpit.OpenTally(context.Background(), &countingOnly{}, filepath.Join(b.TempDir(), "tally.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tally.Close() })
	events := randomEvents(3, *benchEvents)
	start := time.Now()
	for i := 0; i < len(events); i += 2000 {
		if err := tally.Upsert(context.Background(), events[i:min(i+2000, len(events))]); err != nil {
			b.Fatal(err)
		}
	}
	took := time.Since(start)
	events = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.Logf("%d events tallied in %v (%.1f µs each, persisted); rows take %.0f MiB of heap",
		*benchEvents, took.Round(time.Millisecond), float64(took.Microseconds())/float64(*benchEvents), float64(after.HeapAlloc-before.HeapAlloc)/(1<<20))
	return tally
}

// BenchmarkFiguresUncached works out the county's figures for a year (half the
// events) and for both years (every event), a town's for a month, and the
// county's trends, each time for a period the cache has not seen.
func BenchmarkFiguresUncached(b *testing.B) {
	tally := benchTally(b)
	tree := fengqiao.Wenling()
	s, err := cockpit.New(tree, tally, nil, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	town := tree.Units(fengqiao.LevelTown)[0].Code
	year := time.Date(2023, 12, 31, 0, 0, 0, 0, fengqiao.CST) // the events span 2024 and 2025
	for _, c := range []struct {
		name string
		unit string
		span func(time.Time) time.Time
		g    fengqiao.Granularity
	}{
		{"county-year-by-day", tree.Root().Code, func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }, fengqiao.Day},
		{"county-every-event-by-day", tree.Root().Code, func(t time.Time) time.Time { return t.AddDate(2, 0, 0) }, fengqiao.Day},
		{"town-month-by-day", town, func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }, fengqiao.Day},
		{"county-trends", tree.Root().Code, nil, fengqiao.Day},
	} {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				from := year.Add(time.Duration(i) * time.Minute) // a period the cache has not seen
				i++
				var err error
				if c.span == nil {
					_, err = s.Trends(context.Background(), c.unit, year.AddDate(1, 0, 0).Add(time.Duration(i)*time.Hour)) // trends are kept by the hour
				} else {
					_, err = s.Figures(context.Background(), c.unit, from, c.span(from), c.g)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPagesAndCounts pages newest first, and counts with facets, filters the
// rows answer: a town's events, and the county's in a month.
func BenchmarkPagesAndCounts(b *testing.B) {
	tally := benchTally(b)
	tree := fengqiao.Wenling()
	town := tree.Units(fengqiao.LevelTown)[0].Code
	from := time.Date(2025, 6, 1, 0, 0, 0, 0, fengqiao.CST)
	to := from.AddDate(0, 1, 0)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		f    fengqiao.EventFilter
	}{
		{"town", fengqiao.EventFilter{OrgCode: &town}},
		{"county-month", fengqiao.EventFilter{From: &from, To: &to}},
	} {
		b.Run(c.name+"/page-50", func(b *testing.B) {
			for b.Loop() {
				if _, err := tally.Search(ctx, fengqiao.EventQuery{Filter: c.f, First: 50}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/count-facets", func(b *testing.B) {
			for b.Loop() {
				if _, err := tally.Count(ctx, c.f); err != nil {
					b.Fatal(err)
				}
				if _, err := tally.Facets(ctx, c.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
