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
// update times in order. It is the same cursor for an empty page.
func (c TimeCursor) Advance(times []time.Time) TimeCursor {
	if len(times) == 0 {
		return c
	}
	last := times[len(times)-1]
	if last.Equal(c.Since) {
		return TimeCursor{Since: c.Since, Page: c.Page + 1}
	}
	return TimeCursor{Since: last, Page: 1}
}

// TimeRecord is one record of a time-ordered upstream as its connector decodes it.
type TimeRecord interface {
	// SourceID is the record's number in its system, "" if it has none.
	SourceID() string
	// UpdatedAt is when the record last changed, false if it does not say.
	UpdatedAt() (time.Time, bool)
	// Event maps the record, or says in Chinese why it cannot.
	Event() (*fengqiao.Event, error)
}

// MapTimePage turns one page of a time-ordered upstream, read at cur asking for
// pageSize records, into a batch: each raw record is decoded into R and mapped, or
// rejected with its reason; Next moves past the page and More says it was full.
func MapTimePage[R TimeRecord](cur TimeCursor, page []json.RawMessage, pageSize int) *fengqiao.SyncBatch {
	batch := &fengqiao.SyncBatch{More: len(page) == pageSize}
	var times []time.Time
	for _, raw := range page {
		var rec R
		if err := json.Unmarshal(raw, &rec); err != nil {
			batch.Rejects = append(batch.Rejects, fengqiao.Reject{Reason: "记录无法解析：" + err.Error(), Raw: string(raw)})
			continue
		}
		// A record that does not say when it changed moves the cursor no further
		// than its neighbours.
		if t, ok := rec.UpdatedAt(); ok {
			times = append(times, t)
		}
		e, err := rec.Event()
		if err != nil {
			batch.Rejects = append(batch.Rejects, fengqiao.Reject{SourceID: rec.SourceID(), Reason: err.Error(), Raw: string(raw)})
			continue
		}
		batch.Events = append(batch.Events, e)
	}
	batch.Next = cur.Advance(times).String()
	return batch
}
