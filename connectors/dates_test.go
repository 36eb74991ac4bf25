package connectors_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/search"
)

// oneBatch is a connector that reads one batch.
type oneBatch struct{ batch *fengqiao.SyncBatch }

func (c oneBatch) Name() string            { return "ledger" }
func (c oneBatch) Title() string           { return "台账" }
func (c oneBatch) Source() fengqiao.Source { return fengqiao.SourceMediation }
func (c oneBatch) Sync(context.Context, string) (*fengqiao.SyncBatch, error) {
	return c.batch, nil
}
func (c oneBatch) Fetch(context.Context, string) (*fengqiao.Event, error) { return nil, nil }

// TestDatesThatCannotBeWrittenAreQuarantined: a record dated beyond the year 9999
// (an upstream's garbage milliseconds) is quarantined with its reason, and the
// rest of its batch is taken in, instead of the index failing the whole batch at
// every sync.
func TestDatesThatCannotBeWrittenAreQuarantined(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	idx, err := search.OpenBleve(filepath.Join(dir, "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	st, err := connectors.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	now := time.Now().Add(-time.Hour)
	event := func(id string, occurred time.Time) *fengqiao.Event {
		return &fengqiao.Event{ID: fengqiao.EventID(fengqiao.SourceMediation, id), Source: fengqiao.SourceMediation, SourceID: id,
			Kind: fengqiao.KindDispute, Title: "宅基地边界纠纷", OccurredAt: occurred, ReportedAt: now, Status: fengqiao.StatusReceived,
			OrgCode: "331081100208", UpdatedAt: now}
	}
	batch := &fengqiao.SyncBatch{
		Events:   []*fengqiao.Event{event("TJ-1", now), event("TJ-2", time.UnixMilli(9_000_000_000_000_000))},
		Projects: []*fengqiao.Project{{Code: "XM-1", Name: "东部新区污水管网", Progress: 40, UpdatedAt: time.Unix(-70_000_000_000, 0)}},
		Next:     "1",
	}
	r := &connectors.Runner{Tree: fengqiao.Wenling(), Index: idx, State: st}
	r.Add(oneBatch{batch})
	if _, err := r.SyncBatch(context.Background(), oneBatch{batch}); err != nil {
		t.Fatalf("the batch failed: %v", err)
	}
	if _, err := idx.Get(context.Background(), "MEDIATION:TJ-1"); err != nil {
		t.Fatalf("the sound record: %v", err)
	}
	q, err := st.Quarantine("ledger")
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, rej := range q {
		reasons[rej.SourceID] = rej.Reason
	}
	if len(q) != 2 || !strings.Contains(reasons["TJ-2"], "发生时间超出可记录的范围") || !strings.Contains(reasons["XM-1"], "更新时间超出可记录的范围") {
		t.Fatalf("quarantine = %+v", q)
	}
}
