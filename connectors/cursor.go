package connectors

import (
	"encoding/json"
	"slices"
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

// ParseTimeCursor reads a cursor written by String; "" is the start.
func ParseTimeCursor(s string) (TimeCursor, error) {
	c := TimeCursor{Page: 1}
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil || c.Page < 1 {
		return c, fengqiao.Errorf(fengqiao.EINVALID, "同步游标无效：%q", s)
	}
	return c, nil
}

// String encodes the cursor for the sync state.
func (c TimeCursor) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// Advance returns the cursor after reading a page whose records carry the given
// update times. The upstream sorts pages by update time, but records within a page
// may come in any order; the cursor moves to the latest. It is the same cursor for
// an empty page.
func (c TimeCursor) Advance(times []time.Time) TimeCursor {
	if len(times) == 0 {
		return c
	}
	last := slices.MaxFunc(times, time.Time.Compare)
	if last.Equal(c.Since) {
		return TimeCursor{Since: c.Since, Page: c.Page + 1}
	}
	return TimeCursor{Since: last, Page: 1}
}

// CST is China Standard Time, in which every upstream writes its times.
var CST = time.FixedZone("CST", 8*3600)
