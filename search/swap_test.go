package search_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/search"
	"fengqiao/search/indextest"
)

func TestSwapConformance(t *testing.T) {
	t.Parallel()
	indextest.Exercise(t, func(t *testing.T) fengqiao.Index {
		t.Helper()
		idx, err := search.OpenSwap(filepath.Join(t.TempDir(), "events.bleve"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { idx.Close() })
		return idx
	})
}

// swapEvent is work order n, its title naming it by a word of its own.
func swapEvent(n int, title string) *fengqiao.Event {
	id := fmt.Sprintf("GD%06d", n)
	return &fengqiao.Event{ID: fengqiao.EventID(fengqiao.SourceHotline12345, id), Source: fengqiao.SourceHotline12345, SourceID: id,
		Kind: fengqiao.KindComplaint, Status: fengqiao.StatusReceived, Title: fmt.Sprintf("%s 编号%s", title, id),
		ReportedAt: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute), OrgCode: "331081100010"}
}

func upsert(t *testing.T, idx fengqiao.Index, events ...*fengqiao.Event) {
	t.Helper()
	if err := idx.Upsert(context.Background(), events); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, idx fengqiao.Index, text string) int {
	t.Helper()
	f := fengqiao.EventFilter{}
	if text != "" {
		f.Text = &text
	}
	n, err := idx.Count(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSwapRebuildWhileEventsArrive: a rebuild copies every stored event into a
// new directory while new events and new versions keep arriving; a query during
// the rebuild is answered by the old index; afterwards every event, old and new,
// is found, at its newest version, and the old directory is gone.
func TestSwapRebuildWhileEventsArrive(t *testing.T) {
	t.Parallel()
	base := filepath.Join(t.TempDir(), "events.bleve")
	idx, err := search.OpenSwap(base)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	const stored = 2500 // three scan batches
	var events []*fengqiao.Event
	for n := range stored {
		events = append(events, swapEvent(n, "噪音扰民"))
	}
	upsert(t, idx, events...)

	// A writer keeps adding events for the whole rebuild.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var arrived []*fengqiao.Event
	wg.Go(func() {
		for n := stored + 1000; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			e := swapEvent(n, "夜间施工")
			if err := idx.Upsert(context.Background(), []*fengqiao.Event{e}); err != nil {
				t.Error(err)
				return
			}
			arrived = append(arrived, e)
		}
	})

	paused, resume := make(chan struct{}), make(chan struct{})
	var reports [][2]int
	progress := func(done, total int) {
		if len(reports) == 0 {
			close(paused)
			<-resume
		}
		reports = append(reports, [2]int{done, total})
	}
	rebuilt := make(chan error, 1)
	var held int
	go func() {
		var err error
		held, err = idx.Rebuild(context.Background(), progress)
		rebuilt <- err
	}()
	<-paused
	// Mid-rebuild: the old index answers, and takes writes that the new one
	// must hold too — new events, and new versions of events already copied or not.
	if got := idx.Dir(); got != base {
		t.Errorf("mid-rebuild the index in use is %s, want %s", got, base)
	}
	if n := count(t, idx, "噪音"); n != stored {
		t.Errorf("mid-rebuild 噪音 finds %d events, want %d", n, stored)
	}
	if _, err := idx.Rebuild(context.Background(), nil); !errors.Is(err, search.ErrRebuilding) {
		t.Errorf("a second rebuild at once: %v, want ErrRebuilding", err)
	}
	var changed []*fengqiao.Event
	for _, n := range []int{0, 1, 999, 1000, 2000, stored - 1} {
		changed = append(changed, swapEvent(n, "已改为工资拖欠"))
	}
	upsert(t, idx, changed...)
	var added []*fengqiao.Event
	for n := stored; n < stored+200; n++ {
		added = append(added, swapEvent(n, "垃圾焚烧"))
	}
	upsert(t, idx, added...)
	if err := idx.Delete(context.Background(), []string{events[5].ID, events[2001].ID}); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if err := <-rebuilt; err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()

	if got := idx.Dir(); got != base+".r1" {
		t.Errorf("after the rebuild the index in use is %s, want %s.r1", got, base)
	}
	if _, err := os.Stat(base); !os.IsNotExist(err) {
		t.Errorf("the old index %s is still there (%v)", base, err)
	}
	want := stored + len(added) + len(arrived) - 2
	if n := count(t, idx, ""); n != want {
		t.Errorf("after the rebuild %d events, want %d", n, want)
	}
	if held < stored+len(added)-2 || held > want {
		t.Errorf("Rebuild says the new index holds %d, want %d to %d", held, stored+len(added)-2, want)
	}
	for text, want := range map[string]int{"噪音": stored - len(changed) - 2, "工资拖欠": len(changed), "垃圾焚烧": len(added), "夜间施工": len(arrived)} {
		if n := count(t, idx, text); n != want {
			t.Errorf("after the rebuild %s finds %d, want %d", text, n, want)
		}
	}
	for _, e := range append(append(changed, added...), events[10], events[stored-2]) {
		got, err := idx.Get(context.Background(), e.ID)
		if err != nil || got.Title != e.Title {
			t.Errorf("%s after the rebuild: %v %v, want title %q", e.ID, got, err, e.Title)
		}
	}
	if _, err := idx.Get(context.Background(), events[5].ID); fengqiao.ErrorCode(err) != fengqiao.ENOTFOUND {
		t.Errorf("an event deleted mid-rebuild is back: %v", err)
	}
	if len(reports) < 3 || reports[len(reports)-1] != [2]int{stored, stored} {
		t.Errorf("progress reports %v, want at least 3 ending at %d/%d", reports, stored, stored)
	}

	// A second rebuild takes the next directory; reopened, the index is the last one.
	if _, err := idx.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	idx.Close()
	again, err := search.OpenSwap(base)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := again.Dir(); got != base+".r2" {
		t.Errorf("reopened, the index in use is %s, want %s.r2", got, base)
	}
	if n := count(t, again, ""); n != want {
		t.Errorf("reopened, %d events, want %d", n, want)
	}
}

// TestSwapCancelledRebuild: a rebuild stopped midway leaves the old index in use,
// working, and nothing of the new one; the next rebuild succeeds.
func TestSwapCancelledRebuild(t *testing.T) {
	t.Parallel()
	base := filepath.Join(t.TempDir(), "events.bleve")
	idx, err := search.OpenSwap(base)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	var events []*fengqiao.Event
	for n := range 2500 {
		events = append(events, swapEvent(n, "噪音扰民"))
	}
	upsert(t, idx, events...)
	ctx, cancel := context.WithCancel(context.Background())
	_, err = idx.Rebuild(ctx, func(done, total int) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled rebuild: %v", err)
	}
	if got := idx.Dir(); got != base {
		t.Errorf("after a cancelled rebuild the index in use is %s", got)
	}
	if left, _ := filepath.Glob(base + ".*"); len(left) > 0 {
		t.Errorf("a cancelled rebuild left %v", left)
	}
	upsert(t, idx, swapEvent(9999, "垃圾焚烧"))
	if n := count(t, idx, ""); n != 2501 {
		t.Errorf("after a cancelled rebuild %d events, want 2501", n)
	}
	if _, err := idx.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if n := count(t, idx, "垃圾焚烧"); n != 1 || idx.Dir() != base+".r1" {
		t.Errorf("the rebuild after a cancelled one: %d found in %s", n, idx.Dir())
	}
}

// TestSwapOpenAfterACrash: a crash mid-rebuild leaves a partial directory, which
// the next start removes, keeping the old index; a crash after the switch but
// before the old directory was removed starts on the new one and removes the old.
func TestSwapOpenAfterACrash(t *testing.T) {
	t.Parallel()
	base := filepath.Join(t.TempDir(), "events.bleve")
	idx, err := search.OpenSwap(base)
	if err != nil {
		t.Fatal(err)
	}
	upsert(t, idx, swapEvent(1, "噪音扰民"), swapEvent(2, "噪音扰民"))
	idx.Close()
	// Mid-rebuild: a partial generation, no marker.
	partial, err := search.OpenBleve(base + ".r1")
	if err != nil {
		t.Fatal(err)
	}
	upsert(t, partial, swapEvent(1, "噪音扰民"))
	partial.Close()
	idx, err = search.OpenSwap(base)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, idx, ""); n != 2 || idx.Dir() != base {
		t.Errorf("after a crash mid-rebuild: %d events in %s, want 2 in %s", n, idx.Dir(), base)
	}
	if _, err := os.Stat(base + ".r1"); !os.IsNotExist(err) {
		t.Errorf("the partial index is still there (%v)", err)
	}
	idx.Close()

	// After the switch: the marker names r1, the old base is still there.
	done, err := search.OpenBleve(base + ".r1")
	if err != nil {
		t.Fatal(err)
	}
	upsert(t, done, swapEvent(1, "垃圾焚烧"), swapEvent(2, "垃圾焚烧"), swapEvent(3, "垃圾焚烧"))
	done.Close()
	if err := os.WriteFile(base+".current", []byte("events.bleve.r1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err = search.OpenSwap(base)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if n := count(t, idx, "垃圾焚烧"); n != 3 || !strings.HasSuffix(idx.Dir(), ".r1") {
		t.Errorf("after a crash past the switch: %d found in %s, want 3 in .r1", n, idx.Dir())
	}
	if _, err := os.Stat(base); !os.IsNotExist(err) {
		t.Errorf("the old index is still there (%v)", err)
	}
}
