package connectors

import (
	"cmp"
	"encoding/json"
	"strings"
	"time"

	"fengqiao"
)

// TimeCursor is the cursor for upstreams that list records in update order with an
// inclusive "updated since" filter and numbered pages. Records at the cursor's own
// timestamp are read again, which the idempotent index absorbs; Page moves past a
// page that holds nothing but that one timestamp, so ties never stall a sync.
type TimeCursor struct {
	Since time.Time `json:"since"`
	Page  int       `json:"page"`
}

// maxPage is the last page a time cursor numbers. Pages grow only through a run of
// records sharing one update time, far shorter than this; the bound keeps the
// page, and the offset an upstream computes from it, from wrapping around.
const maxPage = 1 << 30

// ParseTimeCursor reads a cursor written by String; "" is the start. A cursor
// beyond the present (saved before future-dated records were refused) is the
// start too: what it skipped is read again, and the index absorbs the rest.
func ParseTimeCursor(s string) (TimeCursor, error) {
	c := TimeCursor{Page: 1}
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil || c.Page < 1 || c.Page > maxPage {
		return c, fengqiao.Errorf(fengqiao.EINVALID, "同步游标无效：%q", s)
	}
	if beyondTolerance(c.Since, time.Now()) {
		return TimeCursor{Page: 1}, nil
	}
	return c, nil
}

// String encodes the cursor for the sync state.
func (c TimeCursor) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// Advance returns the cursor after reading, at now, a page whose records carry
// the given update times, and whether the sync stops there. The upstream sorts
// pages by update time, but records within a page may come in any order; the
// cursor moves to the latest. It never passes now: a record dated later (a clock
// running ahead, or a bad date the runner quarantines) would hide every record
// stamped before it but written after, so a page reaching past now stops the sync
// and is read again at the next. It is the same cursor for an empty page. A page
// of ties at maxPage stops the sync too, the cursor staying where it is.
func (c TimeCursor) Advance(times []time.Time, now time.Time) (next TimeCursor, stop bool) {
	last := c.Since // the zero time is no floor: a cursor may be older than it
	reachedNow := false
	for _, t := range times {
		if t.After(now) {
			reachedNow = true
		} else if t.After(last) {
			last = t
		}
	}
	switch {
	case last.After(c.Since):
		return TimeCursor{Since: last, Page: 1}, reachedNow
	case len(times) > 0 && !reachedNow && c.Page >= maxPage:
		return c, true
	case len(times) > 0 && !reachedNow:
		return TimeCursor{Since: c.Since, Page: c.Page + 1}, false // a page of ties at the cursor's time
	}
	return c, reachedNow
}

// AdvancePage is Advance for a page that was full, or not. Only a full page of
// ties at the cursor's time moves to the next page: a page that is not full holds
// the last of them, and the cursor stays, so that the next sync reads it again
// with the records written since after it. (Moved on, the next sync would ask
// for an offset past those records, skipping them until a page's worth more of
// ties and records had arrived.)
func (c TimeCursor) AdvancePage(times []time.Time, full bool, now time.Time) (next TimeCursor, stop bool) {
	next, stop = c.Advance(times, now)
	if !full && next.Since.Equal(c.Since) {
		return c, stop
	}
	return next, stop
}

// IDCursor is the cursor for upstreams that list records in increasing id order
// after a given id (a "sinceId" parameter): the largest id read so far. It only
// moves forward, so a page read again after a crash is read from the same id.
type IDCursor struct {
	After string `json:"afterId"` // "" at the start: nothing read yet
}

// ParseIDCursor reads a cursor written by String; "" is the start.
func ParseIDCursor(s string) (IDCursor, error) {
	var c IDCursor
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fengqiao.Errorf(fengqiao.EINVALID, "同步游标无效：%q", s)
	}
	return c, nil
}

// String encodes the cursor for the sync state.
func (c IDCursor) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// Advance returns the cursor after a page of records with the given ids: the
// largest of them and the cursor's own, compared by CompareIDs.
func (c IDCursor) Advance(ids []string) IDCursor {
	for _, id := range ids {
		if id != "" && CompareIDs(id, c.After) > 0 {
			c.After = id
		}
	}
	return c
}

// CompareIDs orders two record ids: as numbers when both are decimal integers
// (of any length, so 10 comes after 9), else as text. It returns -1, 0 or +1.
func CompareIDs(a, b string) int {
	na, aNum := decimal(a)
	nb, bNum := decimal(b)
	if !aNum || !bNum {
		return strings.Compare(a, b)
	}
	if len(na) != len(nb) {
		return cmp.Compare(len(na), len(nb))
	}
	return strings.Compare(na, nb)
}

// decimal returns the digits of a non-negative decimal integer without leading
// zeros ("0" for zero), and whether s is one.
func decimal(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	if t := strings.TrimLeft(s, "0"); t != "" {
		return t, true
	}
	return "0", true
}
