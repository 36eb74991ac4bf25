package connectors_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/tools/world"
)

// TestFutureDatedRecordsAreQuarantined serves, in every upstream, a record dated
// 2099 among normal ones: it is quarantined with its reason, and the normal
// records written after it are still read at the next sync, whatever the cursor.
func TestFutureDatedRecordsAreQuarantined(t *testing.T) {
	t.Parallel()
	for _, up := range upstreams {
		t.Run(up.name, func(t *testing.T) {
			t.Parallel()
			county := newCounty(t, 0)
			h := openHub(t, county.World.Tree, up.build(county, testUpstream))
			ctx := context.Background()
			futureIsQuarantined(t, h, up.connector, func(id string, at time.Time) func() bool {
				eventID := up.dated(county, id, at)
				return func() bool { _, err := h.index.Get(ctx, eventID); return err == nil }
			})
		})
	}
	t.Run("projects", func(t *testing.T) {
		t.Parallel()
		county := newCounty(t, 0)
		h := openHub(t, county.World.Tree, manifestConnectors(t, county, testUpstream, "projects"))
		futureIsQuarantined(t, h, "projects", func(id string, at time.Time) func() bool {
			p := *soundOne(county.World.Projects, func(p *world.Project) bool { return p.Malformed == "" })
			p.XMBM, p.GXSJ = id, at.Unix()
			county.Projects.Put(&p)
			return func() bool { _, err := h.state.Project(id); return err == nil }
		})
	})
}

// futureIsQuarantined syncs h, then has dated add a record dated 2099 and one a
// minute ago, then another now, syncing after each; dated returns whether its
// record has been read.
func futureIsQuarantined(t *testing.T, h *testHub, connector string, dated func(id string, at time.Time) (read func() bool)) {
	t.Helper()
	h.syncAll(t)
	future := dated("FUTURE-1", time.Date(2099, 1, 1, 0, 0, 0, 0, world.CST))
	before := dated("NORMAL-1", time.Now().Add(-time.Minute))
	h.syncAll(t)
	after := dated("NORMAL-2", time.Now())
	h.syncAll(t)

	if !before() || !after() {
		t.Fatalf("normal records read: before the future one %v, after it %v", before(), after())
	}
	if future() {
		t.Fatal("the record dated 2099 was taken in")
	}
	q := h.quarantined(t, connector)
	if len(q) != 1 || q[0].SourceID != "FUTURE-1" || !strings.Contains(q[0].Reason, "更新时间 2099-01-01 00:00:00 晚于当前时间") {
		t.Fatalf("quarantine = %+v", q)
	}
}

// TestAVersionIndexedWithAFutureDateIsReplaced: a hub that indexed a version dated
// 2099 before such were refused takes the record's next real version over it.
func TestAVersionIndexedWithAFutureDateIsReplaced(t *testing.T) {
	t.Parallel()
	county := newCounty(t, 0)
	up := upstreams[0] // 12345
	h := openHub(t, county.World.Tree, up.build(county, testUpstream))
	ctx := context.Background()
	id := up.dated(county, "GD-1", time.Now().Add(-time.Hour))
	h.syncAll(t)
	e, err := h.index.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	e.UpdatedAt = time.Date(2099, 1, 1, 0, 0, 0, 0, world.CST)
	if err := h.index.Upsert(ctx, []*fengqiao.Event{e}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	up.dated(county, "GD-1", now)
	h.syncAll(t)
	if e, err = h.index.Get(ctx, id); err != nil || !e.UpdatedAt.Equal(now) {
		t.Fatalf("after the real update: %v, %v", e.UpdatedAt, err)
	}
}
