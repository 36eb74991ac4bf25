package search_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/search"
)

// benchIndex returns a Bleve index holding n generated citizen messages spread
// over a year up to now and over the villages of Wenling.
func benchIndex(b *testing.B, n int) *search.Bleve {
	b.Helper()
	idx, err := search.OpenBleve(filepath.Join(b.TempDir(), "events.bleve"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { idx.Close() })
	villages := fengqiao.Wenling().Units(fengqiao.LevelVillage)
	start := time.Now().AddDate(-1, 0, 0)
	messages := citizenMessages(rand.New(rand.NewPCG(1, uint64(n))), n)
	var batch []*fengqiao.Event
	for i, m := range messages {
		at := start.Add(time.Duration(i) * (365 * 24 * time.Hour / time.Duration(n)))
		batch = append(batch, messageEvent(i, m, at, villages[i%len(villages)].Code))
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
		b.Run(fmt.Sprintf("n=%d/text-word-facets", n), func(b *testing.B) {
			text := "物业"
			for b.Loop() {
				if _, err := idx.Facets(ctx, fengqiao.EventFilter{Text: &text}); err != nil {
					b.Fatal(err)
				}
			}
		})
		// Text: newest first and ranked, pages of 20 with their highlights.
		for _, tc := range []struct {
			name, text string
			ranked     bool
		}{
			{"text-word", "物业", false},
			{"text-word-ranked", "物业", true},
			{"text-long-word", "垃圾焚烧发电厂", false},
			{"text-two-words", "垃圾 焚烧", false},
			{"text-two-words-ranked", "电梯 维修基金", true},
			{"text-one-char", "楼", false},
			{"text-rare", "外山头村", false},
		} {
			b.Run(fmt.Sprintf("n=%d/%s", n, tc.name), func(b *testing.B) {
				for b.Loop() {
					if _, err := idx.Search(ctx, fengqiao.EventQuery{First: 20, ByRelevance: tc.ranked, Filter: fengqiao.EventFilter{Text: &tc.text}}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
