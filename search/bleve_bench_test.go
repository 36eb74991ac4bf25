package search_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/search"
)

// benchIndex returns a Bleve index holding n synthetic events spread over a year
// up to now and over the villages of Wenling.
func benchIndex(b *testing.B, n int) *search.Bleve {
	b.Helper()
	idx, err := search.OpenBleve(filepath.Join(b.TempDir(), "events.bleve"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { idx.Close() })
	villages := fengqiao.Wenling().Units(fengqiao.LevelVillage)
	start := time.Now().AddDate(-1, 0, 0)
	var batch []*fengqiao.Event
	for i := range n {
		at := start.Add(time.Duration(i) * (365 * 24 * time.Hour / time.Duration(n)))
		sid := fmt.Sprintf("GD%08d", i)
		batch = append(batch, &fengqiao.Event{ID: fengqiao.EventID(fengqiao.SourceHotline12345, sid), Source: fengqiao.SourceHotline12345,
			SourceID: sid, Kind: fengqiao.KindComplaint, Title: "小区夜间施工噪音扰民", Content: "反映工地夜间施工噪音很大，影响居民休息，请尽快处理。",
			Category: "城乡建设", ReportedAt: at, OccurredAt: at, UpdatedAt: at, Status: fengqiao.StatusResolved, OrgCode: villages[i%len(villages)].Code})
		if len(batch) == 1000 {
			if err := idx.Upsert(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := idx.Upsert(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
	return idx
}

func BenchmarkBleve(b *testing.B) {
	for _, n := range []int{20000, 100000} {
		idx := benchIndex(b, n)
		ctx := context.Background()
		town := "331081100"
		b.Run(fmt.Sprintf("n=%d/first5", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := idx.Search(ctx, fengqiao.EventQuery{First: 5}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/first5-town", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := idx.Search(ctx, fengqiao.EventQuery{First: 5, Filter: fengqiao.EventFilter{OrgCode: &town}}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/count", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := idx.Count(ctx, fengqiao.EventFilter{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
