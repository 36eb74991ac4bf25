package cockpit

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// The ids of the rows, packed in each month's arena and found through the
// places table, find every row where it is — through new versions in the same
// month, moves to another month and the table's growth — and list each id once.
func TestPlacesFindEveryRow(t *testing.T) {
	tally := &Tally{months: map[int32][]row{}, ids: map[int32]*idArena{}}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	want := map[string]int64{} // id → its latest report
	for step := range 30000 {
		id := fmt.Sprintf("HOTLINE_12345:GD%d", step%9000)
		at := base.Add(time.Duration(step*step%(400*24)) * time.Hour).UnixNano()
		tally.put(id, row{reported: at})
		want[id] = at
	}
	var listed []string
	tally.byID.each(tally, func(id string) { listed = append(listed, id) })
	slices.Sort(listed)
	if len(listed) != len(want) || len(slices.Compact(listed)) != len(want) {
		t.Fatalf("%d ids listed, want %d once each", len(listed), len(want))
	}
	for id, at := range want {
		p, reported, ok := tally.lookup(id)
		if !ok || reported != at || p.month != monthOf(at) || string(tally.ids[p.month].at(p.i)) != id {
			t.Fatalf("%s: %+v %d %v, want reported %d", id, p, reported, ok, at)
		}
	}
	if _, _, ok := tally.lookup("HOTLINE_12345:GD9000"); ok {
		t.Fatal("an id never tallied has a row")
	}
	// The rows left behind by moves are marked, and only they.
	live := 0
	for _, rows := range tally.months {
		for _, r := range rows {
			if r.reported != moved {
				live++
			}
		}
	}
	if live != len(want) {
		t.Fatalf("%d rows not moved, want %d", live, len(want))
	}
}
