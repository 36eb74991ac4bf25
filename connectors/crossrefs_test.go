package connectors_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"fengqiao"
	"fengqiao/connectors/court"
	"fengqiao/connectors/hotline12345"
	"fengqiao/connectors/mediation"
	"fengqiao/connectors/police110"
	"fengqiao/tools/sim"
)

// countyConnectors is every pulled connector of a county, with small pages so
// that the batches of different connectors interleave.
func countyConnectors(t *testing.T, c *sim.County) []fengqiao.Connector {
	const page = 20
	cs := []fengqiao.Connector{
		hotline12345.New(hotline12345.Config{BaseURL: c.URL["hotline"], APIKey: c.Secret, PageSize: page, Upstream: testUpstream}, nil),
		mediation.New(mediation.Config{BaseURL: c.URL["mediation"], AppID: "fengqiao", Secret: c.Secret, PageSize: page, Upstream: testUpstream}, nil),
		police110.New(police110.Config{BaseURL: c.URL["police"], ClientID: "fengqiao", ClientSecret: c.Secret, PageSize: page, Upstream: testUpstream}, nil),
		court.New(court.Config{BaseURL: c.URL["court"], User: "fengqiao", Password: c.Secret, PageSize: page, Upstream: testUpstream}, nil),
	}
	ms := manifestConnectors(t, c, testUpstream, "citymgmt", "surveys", "projects")
	if len(ms) != 3 {
		t.Fatalf("%d manifests", len(ms))
	}
	return append(cs, ms...)
}

// syncConcurrently syncs every connector in its own goroutine until each has
// caught up, as Runner.Run does.
func (h *testHub) syncConcurrently(t *testing.T) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(h.runner.Connectors()))
	for _, c := range h.runner.Connectors() {
		wg.Go(func() {
			var err error
			for range 1000 {
				var caughtUp bool
				if caughtUp, err = h.runner.SyncBatch(context.Background(), c); err == nil && caughtUp {
					return
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("sync never caught up: %v", err)
	}
}

// TestCrossReferencesHoldUnderConcurrentConnectors syncs all the connectors of a
// county at once, several times over, and checks every reference: a survey is
// placed once its work order or case is indexed, whichever came first, and every
// event that names a stored key project is linked to one it names.
func TestCrossReferencesHoldUnderConcurrentConnectors(t *testing.T) {
	t.Parallel()
	county := newCounty(t, 0.03)
	w := county.World
	for round := range 3 {
		h := openHub(t, w.Tree, countyConnectors(t, county))
		h.syncConcurrently(t)
		events := map[string]*fengqiao.Event{}
		for id := range indexedIDs(t, h.index) {
			e, err := h.index.Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			events[id] = e
		}

		states, err := h.runner.States()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			if s.Pending != 0 {
				t.Errorf("round %d: %s has %d events still waiting", round, s.Name, s.Pending)
			}
		}
		surveys := 0
		for _, s := range w.Surveys {
			if s.Malformed != "" {
				continue
			}
			source := map[string]fengqiao.Source{"12345": fengqiao.SourceHotline12345, "TJ": fengqiao.SourceMediation}[s.YWXT]
			target := events[fengqiao.EventID(source, s.YWBH)]
			got := events[fengqiao.EventID(fengqiao.SourceSurvey, s.HFID)]
			switch {
			case target == nil:
				t.Errorf("round %d: survey %s refers to %s, which is not indexed", round, s.HFID, s.YWBH)
			case got == nil:
				t.Errorf("round %d: survey %s of indexed %s is not indexed", round, s.HFID, target.ID)
			case got.OrgCode != target.OrgCode:
				t.Errorf("round %d: survey %s placed at %s, its event at %s", round, s.HFID, got.OrgCode, target.OrgCode)
			default:
				surveys++
			}
		}

		projects, err := h.state.Projects()
		if err != nil {
			t.Fatal(err)
		}
		byCode := map[string]*fengqiao.Project{}
		for _, p := range projects {
			byCode[p.Code] = p
		}
		linked := 0
		for _, e := range events {
			var named []string
			for _, p := range projects {
				if names(e, p) {
					named = append(named, p.Code)
				}
			}
			switch {
			case len(named) == 0 && e.ProjectCode != "":
				t.Errorf("round %d: %s names no project but is linked to %s", round, e.ID, e.ProjectCode)
			case len(named) > 0 && (byCode[e.ProjectCode] == nil || !names(e, byCode[e.ProjectCode])):
				t.Errorf("round %d: %s names %v but is linked to %q", round, e.ID, named, e.ProjectCode)
			case len(named) > 0:
				linked++
			}
		}
		if surveys == 0 || linked == 0 {
			t.Fatalf("round %d: %d surveys placed, %d events linked: the test proves nothing", round, surveys, linked)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}

// names reports whether an event names a project by code or full name.
func names(e *fengqiao.Event, p *fengqiao.Project) bool {
	return strings.Contains(e.Title+"\n"+e.Content, p.Code) || strings.Contains(e.Title+"\n"+e.Content, p.Name)
}
