package connectors_test

import (
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
)

func TestTimeCursor(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

	start, err := connectors.ParseTimeCursor("")
	if err != nil || !start.Since.IsZero() || start.Page != 1 {
		t.Fatalf("start = %+v, %v", start, err)
	}
	// A page moves the cursor to its last time, page 1.
	c := start.Advance([]time.Time{at(1), at(2), at(2)})
	if !c.Since.Equal(at(2)) || c.Page != 1 {
		t.Fatalf("after a page: %+v", c)
	}
	// A page of nothing but the cursor's own time moves to the next page.
	c = c.Advance([]time.Time{at(2), at(2), at(2)})
	if !c.Since.Equal(at(2)) || c.Page != 2 {
		t.Fatalf("after a page of ties: %+v", c)
	}
	// An empty page leaves it where it is; it survives its encoding.
	if c2 := c.Advance(nil); c2 != c {
		t.Fatalf("empty page moved the cursor: %+v", c2)
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
