package connectors_test

import (
	"encoding/binary"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
)

// FuzzTimeCursor reads any text as a saved cursor and advances it over a page of
// any update times: reading never panics and refuses with EINVALID what is not a
// cursor; a cursor read is never beyond the tolerated future and reads back as it
// is written; advancing never goes back, never passes the present, moves to the
// latest time of the page up to now, stops the sync at a page reaching past now
// (or at ties on the last page it numbers) and nowhere else, and gives a cursor
// that reads back as written.
func FuzzTimeCursor(f *testing.F) {
	at := func(base byte, offset int32) []byte {
		return binary.BigEndian.AppendUint32([]byte{base}, uint32(offset))
	}
	for _, seed := range []struct {
		cursor string
		times  []byte
	}{
		{"", nil},
		{"", append(at(2, 1775000000), at(2, 1775000060)...)},
		{`{"since":"2026-04-02T10:05:00+08:00","page":1}`, append(at(1, 0), at(1, 0)...)},
		{`{"since":"2026-04-02T10:05:00+08:00","page":4}`, append(at(1, 0), at(0, 1)...)},
		{`{"since":"2026-04-02T02:05:00Z","page":2}`, append(at(0, -30), at(0, 3600)...)},
		{`{"since":"2099-01-01T00:00:00+08:00","page":1}`, at(0, 0)},
		{`{"since":"0001-01-01T00:00:00Z","page":1}`, at(2, -1)},
		{`{"since":"2026-04-02T10:05:00+08:00","page":0}`, nil},
		{`{"since":"2026-04-02T10:05:00.123456789+14:00","page":7}`, at(1, 0)},
		{`{"since":"2026-04-02T10:05:00+08:00","page":1073741824}`, append(at(1, 0), at(1, 0)...)},
		{`{"page":1.5}`, nil}, {`{"since":"yesterday"}`, nil}, {`[]`, nil}, {`null`, nil}, {"{", nil},
	} {
		f.Add(seed.cursor, seed.times)
	}
	f.Fuzz(func(t *testing.T, saved string, page []byte) {
		now := time.Now()
		c, err := connectors.ParseTimeCursor(saved)
		if err != nil {
			if fengqiao.ErrorCode(err) != fengqiao.EINVALID {
				t.Fatalf("cursor %q refused with %v", saved, err)
			}
			return
		}
		if c.Page < 1 || c.Since.After(time.Now().Add(connectors.FutureTolerance)) {
			t.Fatalf("cursor %q read as %+v", saved, c)
		}
		readsBack(t, c)

		// Times of the page: a base (now, the cursor, or the epoch) and an offset in seconds.
		var times []time.Time
		for ; len(page) >= 5; page = page[5:] {
			d := time.Duration(int32(binary.BigEndian.Uint32(page[1:5]))) * time.Second
			switch page[0] % 3 {
			case 0:
				times = append(times, now.Add(d))
			case 1:
				times = append(times, c.Since.Add(d))
			default:
				times = append(times, time.Unix(0, 0).Add(d))
			}
		}
		next, stop := c.Advance(times, now)
		latest, past := c.Since, false
		for _, tm := range times {
			past = past || tm.After(now)
			if !tm.After(now) && tm.After(latest) {
				latest = tm
			}
		}
		stays := next.Since.Equal(c.Since) && next.Page == c.Page
		switch {
		case past && !stop:
			t.Fatal("a page reaching past now did not stop the sync")
		case stop && !past && !(len(times) > 0 && latest.Equal(c.Since) && stays):
			t.Fatalf("the sync stopped at %+v, not past now nor at a page of ties it cannot number past", next)
		case next.Since.Before(c.Since):
			t.Fatalf("cursor went back from %v to %v", c.Since, next.Since)
		case !next.Since.Equal(latest):
			t.Fatalf("cursor moved to %v, the latest time up to now is %v", next.Since, latest)
		case next.Since.After(now) && !next.Since.Equal(c.Since):
			t.Fatalf("cursor moved past now to %v", next.Since)
		case next.Page < 1:
			t.Fatalf("cursor moved to page %d", next.Page)
		}
		readsBack(t, next)
	})
}

// readsBack fails t unless c reads back from its text as itself.
func readsBack(t *testing.T, c connectors.TimeCursor) {
	t.Helper()
	back, err := connectors.ParseTimeCursor(c.String())
	if err != nil || !back.Since.Equal(c.Since) || back.Page != c.Page {
		t.Fatalf("cursor %+v written as %s read back as %+v, %v", c, c, back, err)
	}
}
