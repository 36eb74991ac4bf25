package resolvers

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fengqiao"
)

// A cockpit list is worked out once for every screen that shows the same unit and
// period to callers who see the same subtree; another subtree, unit, period or
// size is worked out anew.
func TestCockpitListsAreSharedByCallersOfOneSubtree(t *testing.T) {
	r := &Resolver{}
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, fengqiao.CST)
	obj := &fengqiao.CockpitFigures{OrgCode: "331081100", From: from, To: from.AddDate(0, 1, 0)}
	var computed atomic.Int64
	list := func(caller *fengqiao.Principal, obj *fengqiao.CockpitFigures, n int) []string {
		t.Helper()
		v, err := cockpitList(r, caller, "topChains", obj, n, func() ([]string, error) {
			computed.Add(1)
			time.Sleep(10 * time.Millisecond) // long enough for the screens to ask at once
			return []string{caller.OrgCode}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	commander := &fengqiao.Principal{ID: "c", Role: fengqiao.RoleCommander, OrgCode: "331081"}
	analyst := &fengqiao.Principal{ID: "a", Role: fengqiao.RoleAnalyst, OrgCode: "331081"}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { list([]*fengqiao.Principal{commander, analyst}[i%2], obj, 5) })
	}
	wg.Wait()
	if n := computed.Load(); n != 1 {
		t.Fatalf("20 county screens at once: %d computations, want 1", n)
	}
	town := &fengqiao.Principal{ID: "t", Role: fengqiao.RoleCommander, OrgCode: "331081100"}
	if got := list(town, obj, 5); len(got) != 1 || got[0] != town.OrgCode {
		t.Errorf("a town caller was served %v, computed for another subtree", got)
	}
	other := *obj
	other.To = other.To.AddDate(0, 0, 1)
	list(commander, &other, 5)
	list(commander, obj, 8)
	if n := computed.Load(); n != 4 {
		t.Errorf("another subtree, period and size: %d computations in all, want 4", n)
	}
}
