package search

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"fengqiao"
)

// TestBleveRebuildsAnOlderIndex: an index whose text was indexed otherwise (by an
// older version) is indexed anew from the events it stores, in its place; a
// rebuild cut short between its renames is taken up again.
func TestBleveRebuildsAnOlderIndex(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "events.bleve")
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var events []*fengqiao.Event
	older, err := bleve.New(dir, bleve.NewIndexMapping()) // no text format, fields indexed as they come
	if err != nil {
		t.Fatal(err)
	}
	batch := older.NewBatch()
	for i, title := range []string{"我們瞭解到工地拖欠工資", "夜间施工噪音扰民", "垃圾焚烧厂选址"} {
		e := &fengqiao.Event{ID: fengqiao.EventID(fengqiao.SourceHotline12345, title), Source: fengqiao.SourceHotline12345, SourceID: title,
			Title: title, ReportedAt: at.Add(time.Duration(i) * time.Minute), OrgCode: "331081100010"}
		raw, _ := json.Marshal(e)
		if err := batch.Index(e.ID, map[string]any{"title": title, fieldRaw: string(raw)}); err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	if err := older.Batch(batch); err != nil {
		t.Fatal(err)
	}
	older.Close()
	// A rebuild stopped after moving the index away.
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}

	b, err := OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	text := "们了解 工资"
	page, err := b.Search(context.Background(), fengqiao.EventQuery{First: 10, Filter: fengqiao.EventFilter{Text: &text}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].ID != events[0].ID {
		t.Fatalf("after the rebuild %q finds %v", text, page.Events)
	}
	if n, err := b.Count(context.Background(), fengqiao.EventFilter{}); err != nil || n != len(events) {
		t.Fatalf("the rebuilt index holds %d events (%v), want %d", n, err, len(events))
	}
	for _, left := range []string{dir + ".old", dir + ".rebuild"} {
		if _, err := os.Stat(left); !os.IsNotExist(err) {
			t.Errorf("%s is left behind (%v)", left, err)
		}
	}
	if format, _ := b.index.GetInternal(formatKey); string(format) != textFormat {
		t.Errorf("format = %q, want %q", format, textFormat)
	}
}
