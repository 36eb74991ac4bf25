package search

import (
	"path/filepath"
	"testing"
	"time"
)

// TestOpenBleveHeldElsewhereFailsInSeconds opens an index twice: the second
// open, which waits on the first's bolt file lock, fails after the timeout
// instead of waiting forever.
func TestOpenBleveHeldElsewhereFailsInSeconds(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "events.bleve")
	first, err := OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		second, err := OpenBleve(dir)
		if err == nil {
			second.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a second open of a held index succeeded")
		}
		t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(30 * time.Second):
		t.Fatal("a second open of a held index still waits after 30 s")
	}
}
