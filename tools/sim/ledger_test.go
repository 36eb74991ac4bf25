package sim

import (
	"testing"
	"time"
)

type rec struct {
	id string
	at int
}

func TestLedgerKeepsUpdateOrder(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key := func(r rec) (time.Time, string) { return t0.Add(time.Duration(r.at) * time.Second), r.id }
	l := newLedger([]rec{{"c", 3}, {"a", 1}, {"b", 1}, {"d", 5}}, key)
	l.put(rec{"a", 4}) // an update moves a record to its new place
	l.put(rec{"e", 0}) // a new record
	got, total := l.since(t0, 0, 10)
	want := []rec{{"e", 0}, {"b", 1}, {"c", 3}, {"a", 4}, {"d", 5}}
	if total != 5 || len(got) != 5 {
		t.Fatalf("since(start) = %v (total %d)", got, total)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order = %v, want %v", got, want)
		}
		if r, ok := l.get(want[i].id); !ok || r != want[i] {
			t.Fatalf("get(%s) = %v, %v", want[i].id, r, ok)
		}
	}
	if page, total := l.since(t0.Add(3*time.Second), 1, 1); total != 3 || len(page) != 1 || page[0].id != "a" {
		t.Fatalf("since(3s) page 2 of size 1 = %v (total %d)", page, total)
	}
}
