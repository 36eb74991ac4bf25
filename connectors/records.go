package connectors

import (
	"time"

	"fengqiao"
)

// Record is one upstream record as its connector decodes it.
type Record interface {
	// SourceID is the record's number in its system, "" if it has none.
	SourceID() string
	// Event maps the record, or says in Chinese why it cannot. It returns nil and
	// no error for a record the hub does not take (a theft among 110 calls).
	Event() (*fengqiao.Event, error)
}

// TimeRecord is a record of an upstream that lists changes in update order.
type TimeRecord interface {
	Record
	// UpdatedAt is when the record last changed, false if it does not say.
	UpdatedAt() (time.Time, bool)
}

// MapRecords decodes each raw record of a page into R and maps it: the events it
// yields and the records that failed, with their reasons, make the batch; the
// decoded records are returned for the connector's cursor.
func MapRecords[R Record, B ~[]byte](page []B, decode func([]byte, any) error) (*fengqiao.SyncBatch, []R) {
	batch := &fengqiao.SyncBatch{}
	var decoded []R
	for _, raw := range page {
		var rec R
		if err := decode(raw, &rec); err != nil {
			batch.Rejects = append(batch.Rejects, fengqiao.Reject{Reason: "记录无法解析：" + err.Error(), Raw: string(raw)})
			continue
		}
		decoded = append(decoded, rec)
		e, err := rec.Event()
		switch {
		case err != nil:
			batch.Rejects = append(batch.Rejects, fengqiao.Reject{SourceID: rec.SourceID(), Reason: err.Error(), Raw: string(raw)})
		case e != nil:
			batch.Events = append(batch.Events, e)
		}
	}
	return batch, decoded
}

// MapTimePage maps one page of a time-ordered upstream, read at cur asking for
// pageSize records: Next moves past the page (see TimeCursor.AdvancePage) and
// More says it was full and the cursor did not stop there (at the present, or its
// last page).
func MapTimePage[R TimeRecord, B ~[]byte](cur TimeCursor, page []B, pageSize int, decode func([]byte, any) error) *fengqiao.SyncBatch {
	batch, decoded := MapRecords[R](page, decode)
	var times []time.Time
	for _, rec := range decoded {
		// A record that does not say when it changed moves the cursor no further
		// than its neighbours.
		if t, ok := rec.UpdatedAt(); ok {
			times = append(times, t)
		}
	}
	// A page may repeat records: more than asked for is full too.
	full := len(page) >= pageSize
	next, stop := cur.AdvancePage(times, full, time.Now())
	batch.Next = next.String()
	batch.More = full && !stop
	return batch
}

// PageRemaining is how many records are left after a page of got records read
// at cur, pageSize a page, when the upstream says total records changed since
// cur.Since (its pages counting from 1): for progress; 0 when total says nothing.
func PageRemaining(cur TimeCursor, total, pageSize, got int) int {
	return max(0, total-(cur.Page-1)*pageSize-got)
}
