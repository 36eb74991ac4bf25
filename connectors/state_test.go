package connectors_test

import (
	"path/filepath"
	"testing"
	"time"

	"fengqiao/connectors"
)

func TestEnqueueOnceRemembersKeysUntilForgotten(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := connectors.OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, connectors.CST)
	enqueue := func(key string, at time.Time) bool {
		t.Helper()
		ok, err := st.EnqueueOnce("q", key, []byte(key), at)
		if err != nil {
			t.Fatal(err)
		}
		return ok
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
