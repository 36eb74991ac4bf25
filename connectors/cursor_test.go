package connectors_test

import (
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
)

func TestTimeCursor(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	now := at(100)
	advance := func(c connectors.TimeCursor, times ...time.Time) (connectors.TimeCursor, bool) {
		return c.Advance(times, now)
	}

	start, err := connectors.ParseTimeCursor("")
	if err != nil || !start.Since.IsZero() || start.Page != 1 {
		t.Fatalf("start = %+v, %v", start, err)
	}
	// A page moves the cursor to its last time, page 1.
	c, reached := advance(start, at(1), at(2), at(2))
	if !c.Since.Equal(at(2)) || c.Page != 1 || reached {
		t.Fatalf("after a page: %+v, %v", c, reached)
	}
	// A page of nothing but the cursor's own time moves to the next page.
	c, _ = advance(c, at(2), at(2), at(2))
	if !c.Since.Equal(at(2)) || c.Page != 2 {
		t.Fatalf("after a page of ties: %+v", c)
	}
	// A page of ties that is not full is their last: the cursor stays, so the
	// records written after them are on the page it reads next.
	if c2, _ := c.AdvancePage([]time.Time{at(2), at(2)}, false, now); c2 != c {
		t.Fatalf("after the last page of ties: %+v, want %+v", c2, c)
	}
	if c2, _ := c.AdvancePage([]time.Time{at(2), at(2)}, true, now); c2.Page != c.Page+1 {
		t.Fatalf("after a full page of ties: %+v", c2)
	}
	if c2, _ := c.AdvancePage([]time.Time{at(2), at(3)}, false, now); !c2.Since.Equal(at(3)) || c2.Page != 1 {
		t.Fatalf("after the last page: %+v", c2)
	}
	// An empty page leaves it where it is; it survives its encoding.
	if c2, reached := advance(c); c2 != c || reached {
		t.Fatalf("empty page moved the cursor: %+v, %v", c2, reached)
	}
	back, err := connectors.ParseTimeCursor(c.String())
	if err != nil || !back.Since.Equal(c.Since) || back.Page != c.Page {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	for _, bad := range []string{"{", `{"page":0}`, "yesterday"} {
		if _, err := connectors.ParseTimeCursor(bad); fengqiao.ErrorCode(err) != fengqiao.EINVALID {
			t.Errorf("cursor %q: err = %v, want EINVALID", bad, err)
		}
	}
}

func TestTimeCursorNeverPassesThePresent(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	now, future := at(100), time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)

	// A page reaching past now moves to its latest time up to now, and says so.
	c, reached := connectors.TimeCursor{Since: at(1), Page: 1}.Advance([]time.Time{at(5), future, at(3)}, now)
	if !c.Since.Equal(at(5)) || c.Page != 1 || !reached {
		t.Fatalf("after a page with a future record: %+v, %v", c, reached)
	}
	// Ties at the cursor with a future record are not a page of ties: read again.
	c2, reached := c.Advance([]time.Time{at(5), at(5), future}, now)
	if c2 != c || !reached {
		t.Fatalf("ties and a future record moved the cursor to %+v, %v", c2, reached)
	}
	// Nothing but the future: the cursor stays.
	if c2, reached := c.Advance([]time.Time{future}, now); c2 != c || !reached {
		t.Fatalf("a future record moved the cursor to %+v, %v", c2, reached)
	}
	// A cursor saved in the future by an earlier version is read as the start.
	saved := connectors.TimeCursor{Since: future, Page: 3}.String()
	if got, err := connectors.ParseTimeCursor(saved); err != nil || !got.Since.IsZero() || got.Page != 1 {
		t.Fatalf("cursor %s read as %+v, %v", saved, got, err)
	}

	if err := connectors.CheckNotFuture("更新时间", time.Now().Add(connectors.FutureTolerance-time.Minute), time.Now()); err != nil {
		t.Fatalf("within the tolerance: %v", err)
	}
	err := connectors.CheckNotFuture("更新时间", future, time.Now())
	if msg := fengqiao.ErrorMessage(err); !strings.Contains(msg, "更新时间 2099-01-01 08:00:00 晚于当前时间") {
		t.Fatalf("future date: %q", msg)
	}
}

func TestIDCursor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"10", "9", 1}, {"9", "10", -1}, {"007", "7", 0}, {"12345678901234567890123", "99", 1},
		{"A10", "A9", -1}, // not numbers: as text
		{"5", "", 1},
	} {
		if got := connectors.CompareIDs(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareIDs(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	start, err := connectors.ParseIDCursor("")
	if err != nil || start.After != "" {
		t.Fatalf("start = %+v, %v", start, err)
	}
	c := start.Advance([]string{"8", "9", "10", ""})
	if c.After != "10" {
		t.Fatalf("after 8, 9, 10: %+v, want 10", c)
	}
	if c2 := c.Advance([]string{"3"}); c2 != c {
		t.Fatalf("an older id moved the cursor back: %+v", c2)
	}
	back, err := connectors.ParseIDCursor(c.String())
	if err != nil || back != c {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if _, err := connectors.ParseIDCursor("{"); fengqiao.ErrorCode(err) != fengqiao.EINVALID {
		t.Errorf("bad cursor: %v, want EINVALID", err)
	}
}
