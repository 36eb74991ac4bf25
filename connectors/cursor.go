package connectors

import (
	"encoding/json"
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

// ParseTimeCursor reads a cursor written by String; "" is the start. A cursor
// beyond the present (saved before future-dated records were refused) is the
// start too: what it skipped is read again, and the index absorbs the rest.
func ParseTimeCursor(s string) (TimeCursor, error) {
	c := TimeCursor{Page: 1}
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil || c.Page < 1 {
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
// the given update times, and whether the page reached past now. The upstream
// sorts pages by update time, but records within a page may come in any order;
// the cursor moves to the latest. It never passes now: a record dated later (a
// clock running ahead, or a bad date the runner quarantines) would hide every
// record stamped before it but written after, so such a page ends the sync and
// is read again at the next. It is the same cursor for an empty page.
func (c TimeCursor) Advance(times []time.Time, now time.Time) (next TimeCursor, reachedNow bool) {
	var last time.Time
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
	case len(times) > 0 && !reachedNow:
		return TimeCursor{Since: c.Since, Page: c.Page + 1}, false // a page of ties at the cursor's time
	}
	return c, reachedNow
}

// FutureTolerance is how far ahead of the hub's clock an upstream may date a
// record (clocks drift). A record dated later is quarantined.
const FutureTolerance = 10 * time.Minute

// CheckNotFuture says in Chinese why a record whose field is dated t, read at
// now, is refused: it is dated beyond now plus FutureTolerance. It is nil for
// any other time.
func CheckNotFuture(field string, t, now time.Time) error {
	if !beyondTolerance(t, now) {
		return nil
	}
	return fengqiao.Errorf(fengqiao.EINVALID, "%s %s 晚于当前时间超过 %d 分钟，疑为上游时钟或数据有误",
		field, t.In(CST).Format("2006-01-02 15:04:05"), int(FutureTolerance.Minutes()))
}

// beyondTolerance reports whether t is later than now plus FutureTolerance.
func beyondTolerance(t, now time.Time) bool { return t.After(now.Add(FutureTolerance)) }

// CST is China Standard Time, in which every upstream writes its times.
var CST = time.FixedZone("CST", 8*3600)
