package search_test

import (
	"path/filepath"
	"testing"

	"fengqiao"
	"fengqiao/search"
	"fengqiao/search/indextest"
)

func TestBleveConformance(t *testing.T) {
	t.Parallel()
	indextest.Exercise(t, func(t *testing.T) fengqiao.Index {
		t.Helper()
		idx, err := search.OpenBleve(filepath.Join(t.TempDir(), "events.bleve"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { idx.Close() })
		return idx
	})
}
