package connectors_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"fengqiao/connectors"
)

func TestEnqueueRemembersKeysUntilForgotten(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := connectors.OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, connectors.CST)
	enqueue := func(key string, at time.Time) bool {
		t.Helper()
		ok, err := st.Enqueue("q", []connectors.Item{{Key: key, Value: []byte(key)}}, at)
		if err != nil {
			t.Fatal(err)
		}
		return ok[0]
	}
	long := string(make([]byte, 40<<10)) // longer than a bbolt key may be
	if !enqueue("a", t0) || !enqueue("b", t0.Add(time.Hour)) || !enqueue(long, t0) || enqueue("a", t0.Add(2*time.Hour)) {
		t.Fatal("a key was enqueued twice, or a new one refused")
	}
	// Known after a restart; forgotten only once older than the cut.
	st.Close()
	if st, err = connectors.OpenState(path); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if enqueue("b", t0.Add(3*time.Hour)) {
		t.Fatal("a key was forgotten by a restart")
	}
	if err := st.Forget("q", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if !enqueue("a", t0.Add(4*time.Hour)) || enqueue("b", t0.Add(4*time.Hour)) {
		t.Fatal("Forget dropped the wrong keys")
	}
	queued, err := st.Dequeue("q", 0, 10)
	if err != nil || len(queued) != 4 || string(queued[3].Value) != "a" {
		t.Fatalf("queue holds %d values, %v", len(queued), err)
	}
}

func TestEnqueueReportsEachItemOfAGroup(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := connectors.OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, connectors.CST)
	items := func(keys ...string) []connectors.Item {
		var out []connectors.Item
		for _, k := range keys {
			out = append(out, connectors.Item{Key: k, Value: []byte(k)})
		}
		return out
	}
	// A key repeated within one call, and one enqueued before, go in once.
	if got, err := st.Enqueue("q", items("a"), t0); err != nil || !slices.Equal(got, []bool{true}) {
		t.Fatalf("first: %v %v", got, err)
	}
	if got, err := st.Enqueue("q", items("b", "a", "c", "b"), t0); err != nil || !slices.Equal(got, []bool{true, false, true, false}) {
		t.Fatalf("a group with repeats: %v %v", got, err)
	}
	if got, err := st.Enqueue("q", nil, t0); err != nil || len(got) != 0 {
		t.Fatalf("nothing: %v %v", got, err)
	}

	// Many callers at once, each with its own keys and one key they all share:
	// every own key is enqueued, the shared one exactly once, and all of it is on
	// disk when the calls return.
	const callers, each = 32, 20
	var wg sync.WaitGroup
	shared := make([]bool, callers)
	errs := make([]error, callers)
	for c := range callers {
		wg.Go(func() {
			var keys []string
			for i := range each {
				keys = append(keys, fmt.Sprintf("c%d-%d", c, i))
			}
			got, err := st.Enqueue("q", items(append(keys, "shared")...), t0)
			if err == nil && !slices.Equal(got[:each], slices.Repeat([]bool{true}, each)) {
				err = fmt.Errorf("own keys reported %v", got[:each])
			}
			if err == nil {
				shared[c] = got[each]
			}
			errs[c] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := len(slices.DeleteFunc(shared, func(b bool) bool { return !b })); n != 1 {
		t.Fatalf("the shared key was reported enqueued %d times", n)
	}
	st.Close()
	if _, err := st.Enqueue("q", items("late"), t0); err == nil {
		t.Fatal("enqueued into a closed state")
	}
	if st, err = connectors.OpenState(path); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	queued, err := st.Dequeue("q", 0, 10000)
	want := 3 + callers*each + 1
	if err != nil || len(queued) != want {
		t.Fatalf("reopened, the queue holds %d values (want %d), %v", len(queued), want, err)
	}
	seen := map[string]bool{}
	for i, q := range queued {
		if seen[string(q.Value)] || q.Seq != uint64(i+1) {
			t.Fatalf("value %d: %q (seq %d) twice or out of sequence", i, q.Value, q.Seq)
		}
		seen[string(q.Value)] = true
	}
}
