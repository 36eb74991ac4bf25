// Package connectorstest holds what the tests of every connector share: the
// properties a fuzzer checks of a mapped batch.
package connectorstest

import (
	"cmp"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
)

var tree = fengqiao.Wenling()

var hasChinese = regexp.MustCompile(`\p{Han}`)

// CheckReason fails t unless err is a reason in Chinese, as the quarantine shows it.
func CheckReason(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no reason given", what)
	}
	if !hasChinese.MatchString(err.Error()) {
		t.Fatalf("%s: the reason %q is not in Chinese", what, err)
	}
}

// CheckBatch fails t unless every record of a mapped batch came out as a reject
// with a Chinese reason, or as an event of source that the runner either takes in
// or quarantines with a Chinese reason. An event taken in must be written and read
// back unchanged, as the index and the sync state do.
func CheckBatch(t testing.TB, source fengqiao.Source, batch *fengqiao.SyncBatch) {
	t.Helper()
	for _, r := range batch.Rejects {
		if !hasChinese.MatchString(r.Reason) {
			t.Fatalf("record %q refused with the reason %q, not in Chinese", r.SourceID, r.Reason)
		}
	}
	for _, e := range batch.Events {
		CheckEvent(t, source, e)
	}
}

// CheckEvent fails t unless e is an event of source with a consistent id that the
// runner either takes in (and can write and read back) or refuses in Chinese.
func CheckEvent(t testing.TB, source fengqiao.Source, e *fengqiao.Event) {
	t.Helper()
	if e.Source != source || e.ID != e.Origin()+":"+e.SourceID || (source == fengqiao.SourceApp) != (e.App != "") {
		t.Fatalf("event %q of source %q mapped by a connector of %q", e.ID, e.Source, source)
	}
	if err := Admit(e, time.Now()); err != nil {
		if fengqiao.ErrorCode(err) != fengqiao.EINVALID {
			t.Fatalf("event %q refused with %v, not EINVALID", e.ID, err)
		}
		CheckReason(t, "event "+e.ID, err)
		return
	}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("event %q taken in but cannot be written: %v", e.ID, err)
	}
	var back fengqiao.Event
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatalf("event %q taken in but cannot be read back: %v", e.ID, err)
	}
	if again, _ := json.Marshal(back); string(again) != string(raw) {
		t.Fatalf("event %q changes when written and read back:\n%s\n%s", e.ID, raw, again)
	}
}

// Admit decides, as the runner does for one event read at now, whether it is taken
// in: nil, or the reason it is quarantined.
func Admit(e *fengqiao.Event, now time.Time) error {
	e = clone(e)
	if e.OrgCode == "" && e.Address != "" {
		if u := tree.Locate(e.Address); u != nil {
			e.OrgCode = u.Code
		}
	}
	return cmp.Or(connectors.CheckDates(e, now), e.Validate(tree))
}

func clone(e *fengqiao.Event) *fengqiao.Event {
	c := *e
	return &c
}

// CheckTimePage fails t unless the cursor a time-ordered page moved to, from cur,
// reads back as written, never passes the present, and never goes back.
func CheckTimePage(t testing.TB, cur connectors.TimeCursor, batch *fengqiao.SyncBatch) {
	t.Helper()
	next, err := connectors.ParseTimeCursor(batch.Next)
	if err != nil {
		t.Fatalf("next cursor %q does not read back: %v", batch.Next, err)
	}
	// Only the time is held to the present: a cursor read within FutureTolerance
	// ahead of the clock may still turn its page there (TimeCursor.Advance, and
	// FuzzTimeCursor, allow it). Holding the page too failed such a cursor with a
	// page dated before it, but only while the clock stood within the tolerance
	// of the cursor's time, which no saved input can stay.
	if !next.Since.Equal(cur.Since) && next.Since.After(time.Now()) {
		t.Fatalf("cursor moved from %s into the future: %s", cur, batch.Next)
	}
	if next.Since.Before(cur.Since) || next.Since.Equal(cur.Since) && next.Page < cur.Page {
		t.Fatalf("cursor went back from %s to %s", cur, batch.Next)
	}
}
