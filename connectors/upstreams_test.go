package connectors_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/court"
	"fengqiao/connectors/hotline12345"
	"fengqiao/connectors/manifest"
	"fengqiao/connectors/manifests"
	"fengqiao/connectors/mediation"
	"fengqiao/connectors/police110"
	"fengqiao/search"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// upstream is one simulated system and what a sync of it must end with.
type upstream struct {
	name      string // simulator name in sim.County
	connector string // connector name
	// drift renames a field every record needs; the reason must name it.
	driftFrom, driftTo, driftReason string
	// build returns the connectors to run (surveys need the systems they refer to).
	build func(c *sim.County, up connectors.UpstreamConfig) []fengqiao.Connector
	// expect returns the ids the connector must index and the source ids it must
	// quarantine.
	expect func(w *world.World) (sound, broken map[string]bool)
	// dated adds a sound record numbered id, updated at the given time, and
	// returns its event id.
	dated func(c *sim.County, id string, at time.Time) string
}

// fault is one way an upstream misbehaves.
type fault struct {
	name   string
	faults sim.Faults
}

var faults = []fault{
	{"none", sim.Faults{}},
	{"latency", sim.Faults{Latency: 5 * time.Millisecond}},
	{"5xx", sim.Faults{ErrorRate: 0.3}},
	{"429 Retry-After", sim.Faults{ThrottleRate: 0.3}},
	{"hang past timeout", sim.Faults{HangRate: 0.1}},
	{"duplicates, stale versions, out of order", sim.Faults{DuplicateRate: 0.3, StaleRate: 0.3, Shuffle: true}},
}

// testUpstream is the client config of these tests: short timeouts, quick retries.
var testUpstream = connectors.UpstreamConfig{Timeout: 300 * time.Millisecond, RetryMax: 3, RetryWaitMin: time.Millisecond,
	RetryWaitMax: 5 * time.Millisecond, BreakerFailures: 3, BreakerCooldown: 100 * time.Millisecond}

func manifestConnectors(t testing.TB, c *sim.County, up connectors.UpstreamConfig, names ...string) []fengqiao.Connector {
	ms, err := manifest.Load(manifests.FS, map[string]string{
		"CITYMGMT_URL": c.URL["city"], "CITYMGMT_KEY": c.Secret,
		"SURVEYS_URL": c.URL["surveys"], "SURVEYS_KEY": "fengqiao", "SURVEYS_SECRET": c.Secret,
		"PROJECTS_URL": c.URL["projects"], "PROJECTS_CLIENT_ID": "fengqiao", "PROJECTS_CLIENT_SECRET": c.Secret,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []fengqiao.Connector
	for _, m := range ms {
		for _, n := range names {
			if m.Name == n {
				m.Upstream = up
				m.Pagination.Size = 50
				out = append(out, manifest.New(m, nil))
			}
		}
	}
	return out
}

func sound[T any](records []T, id func(T) string, malformed func(T) string, keep func(T) bool) (map[string]bool, map[string]bool) {
	good, bad := map[string]bool{}, map[string]bool{}
	for _, r := range records {
		switch {
		case !keep(r):
		case malformed(r) != "":
			bad[strings.SplitN(id(r), ":", 2)[1]] = true
		default:
			good[id(r)] = true
		}
	}
	return good, bad
}

func all[T any](T) bool { return true }

var upstreams = []upstream{
	{
		name: "hotline", connector: "hotline12345", driftFrom: "ldsj", driftTo: "callTime", driftReason: "来电时间",
		build: func(c *sim.County, up connectors.UpstreamConfig) []fengqiao.Connector {
			return []fengqiao.Connector{hotline12345.New(hotline12345.Config{BaseURL: c.URL["hotline"], APIKey: c.Secret, PageSize: 50, Upstream: up}, nil)}
		},
		expect: func(w *world.World) (map[string]bool, map[string]bool) {
			return sound(w.Hotline, func(o *world.HotlineOrder) string { return fengqiao.EventID(fengqiao.SourceHotline12345, o.GDBH) },
				func(o *world.HotlineOrder) string { return o.Malformed }, all)
		},
		dated: func(c *sim.County, id string, at time.Time) string {
			o := *soundOne(c.World.Hotline, func(o *world.HotlineOrder) bool { return o.Malformed == "" })
			o.GDBH, o.Updated, o.GXSJ = id, at, at.In(world.CST).Format(world.HotlineTimeLayout)
			c.Hotline.Put(&o)
			return fengqiao.EventID(fengqiao.SourceHotline12345, id)
		},
	},
	{
		name: "mediation", connector: "mediation", driftFrom: "acceptTime", driftTo: "acceptedAt", driftReason: "受理时间",
		build: func(c *sim.County, up connectors.UpstreamConfig) []fengqiao.Connector {
			return []fengqiao.Connector{mediation.New(mediation.Config{BaseURL: c.URL["mediation"], AppID: "fengqiao", Secret: c.Secret, PageSize: 50, Upstream: up}, nil)}
		},
		expect: func(w *world.World) (map[string]bool, map[string]bool) {
			return sound(w.Mediation, func(c *world.MediationCase) string { return fengqiao.EventID(fengqiao.SourceMediation, c.CaseNo) },
				func(c *world.MediationCase) string { return c.Malformed }, all)
		},
		dated: func(c *sim.County, id string, at time.Time) string {
			m := *soundOne(c.World.Mediation, func(m *world.MediationCase) bool { return m.Malformed == "" })
			m.CaseNo, m.LastModifyTime = id, at.UnixMilli()
			c.Mediation.Put(&m)
			return fengqiao.EventID(fengqiao.SourceMediation, id)
		},
	},
	{
		name: "police", connector: "police110", driftFrom: "bjsj", driftTo: "callTime", driftReason: "报警时间",
		build: func(c *sim.County, up connectors.UpstreamConfig) []fengqiao.Connector {
			return []fengqiao.Connector{police110.New(police110.Config{BaseURL: c.URL["police"], ClientID: "fengqiao", ClientSecret: c.Secret, PageSize: 50, Upstream: up}, nil)}
		},
		expect: func(w *world.World) (map[string]bool, map[string]bool) {
			return sound(w.Police, func(p *world.PoliceIncident) string { return fengqiao.EventID(fengqiao.SourcePolice110, p.JQBH) },
				func(p *world.PoliceIncident) string { return p.Malformed },
				func(p *world.PoliceIncident) bool { return p.JQLB == "纠纷" }) // only disputes come in
		},
		dated: func(c *sim.County, id string, at time.Time) string {
			i := *soundOne(c.World.Police, func(i *world.PoliceIncident) bool { return i.Malformed == "" && i.JQLB == "纠纷" })
			i.JQBH, i.Updated, i.GXSJ = id, at, at.In(world.CST).Format(time.RFC3339)
			c.Police.Put(&i)
			return fengqiao.EventID(fengqiao.SourcePolice110, id)
		},
	},
	{
		name: "court", connector: "court", driftFrom: "larq", driftTo: "filedOn", driftReason: "立案日期",
		build: func(c *sim.County, up connectors.UpstreamConfig) []fengqiao.Connector {
			return []fengqiao.Connector{court.New(court.Config{BaseURL: c.URL["court"], User: "fengqiao", Password: c.Secret, PageSize: 40, Upstream: up}, nil)}
		},
		expect: func(w *world.World) (map[string]bool, map[string]bool) {
			return sound(w.Court, func(c *world.CourtCase) string { return fengqiao.EventID(fengqiao.SourceCourt, c.AH) },
				func(c *world.CourtCase) string { return c.Malformed }, all)
		},
		dated: func(c *sim.County, id string, at time.Time) string {
			cs := *soundOne(c.World.Court, func(cs *world.CourtCase) bool { return cs.Malformed == "" })
			cs.AH, cs.Updated, cs.GXSJ = id, at, at.In(world.CST).Format(world.HotlineTimeLayout)
			c.Court.Put(&cs)
			return fengqiao.EventID(fengqiao.SourceCourt, id)
		},
	},
	{
		name: "city", connector: "citymgmt", driftFrom: "reportTime", driftTo: "reportedAt", driftReason: "reportTime",
		build: func(c *sim.County, up connectors.UpstreamConfig) []fengqiao.Connector {
			return manifestConnectors(nil, c, up, "citymgmt")
		},
		expect: func(w *world.World) (map[string]bool, map[string]bool) {
			return sound(w.City, func(c *world.CityCase) string { return fengqiao.EventID(fengqiao.SourceCityMgmt, c.CaseID) },
				func(c *world.CityCase) string { return c.Malformed }, all)
		},
		dated: func(c *sim.County, id string, at time.Time) string {
			cs := *soundOne(c.World.City, func(cs *world.CityCase) bool { return cs.Malformed == "" })
			cs.CaseID, cs.Updated, cs.UpdateTime = id, at, at.In(world.CST).Format(time.RFC3339)
			c.City.Put(&cs)
			return fengqiao.EventID(fengqiao.SourceCityMgmt, id)
		},
	},
	{
		name: "surveys", connector: "surveys", driftFrom: "hfsj", driftTo: "visitedAt", driftReason: "hfsj",
		build: func(c *sim.County, up connectors.UpstreamConfig) []fengqiao.Connector {
			// Surveys first: many arrive before the work orders and cases they refer to.
			return append(manifestConnectors(nil, c, up, "surveys"),
				hotline12345.New(hotline12345.Config{BaseURL: c.URL["hotline"], APIKey: c.Secret, PageSize: 200}, nil),
				mediation.New(mediation.Config{BaseURL: c.URL["mediation"], AppID: "fengqiao", Secret: c.Secret, PageSize: 200}, nil))
		},
		expect: func(w *world.World) (map[string]bool, map[string]bool) {
			return sound(w.Surveys, func(s *world.Survey) string { return fengqiao.EventID(fengqiao.SourceSurvey, s.HFID) },
				func(s *world.Survey) string { return s.Malformed }, all)
		},
		dated: func(c *sim.County, id string, at time.Time) string {
			s := *soundOne(c.World.Surveys, func(s *world.Survey) bool { return s.Malformed == "" })
			s.HFID, s.Updated, s.GXSJ = id, at, at.UnixMilli()
			c.Surveys.Put(&s)
			return fengqiao.EventID(fengqiao.SourceSurvey, id)
		},
	},
}

// soundOne returns the first record that is sound.
func soundOne[T any](records []T, sound func(T) bool) T {
	for _, r := range records {
		if sound(r) {
			return r
		}
	}
	panic("no sound record")
}

func newCounty(t *testing.T, malformed float64) *sim.County {
	t.Helper()
	// Seed 6: the world's one wage matter is at a key project the registry serves
	// sound, so that cross-references have an event to link (seed 5's was broken).
	w := world.Generate(world.Config{Seed: 6, Scale: 0.003, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST), MalformedRate: malformed})
	c, err := sim.StartCounty(w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

type testHub struct {
	runner *connectors.Runner
	index  *search.Bleve
	state  *connectors.State
}

func openHub(t *testing.T, tree *fengqiao.OrgTree, cs []fengqiao.Connector) *testHub {
	t.Helper()
	dir := t.TempDir()
	idx, err := search.OpenBleve(filepath.Join(dir, "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := connectors.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close(); st.Close() })
	r := &connectors.Runner{Tree: tree, Index: idx, State: st}
	for _, c := range cs {
		r.Add(c)
	}
	return &testHub{runner: r, index: idx, state: st}
}

// syncAll syncs until every connector has caught up, as the runner's loop would
// across its intervals: a failed batch is tried again.
func (h *testHub) syncAll(t *testing.T) {
	t.Helper()
	var err error
	for range 50 {
		if err = h.runner.SyncUntilCaughtUp(context.Background()); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sync never caught up: %v", err)
}

func (h *testHub) indexedOf(t *testing.T, source fengqiao.Source) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for id := range indexedIDs(t, h.index) {
		if strings.HasPrefix(id, string(source)+":") {
			got[id] = true
		}
	}
	return got
}

func (h *testHub) quarantined(t *testing.T, connector string) []fengqiao.Reject {
	t.Helper()
	q, err := h.state.Quarantine(connector)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestEveryUpstreamUnderEveryFault(t *testing.T) {
	t.Parallel()
	for _, up := range upstreams {
		for _, f := range faults {
			t.Run(up.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				county := newCounty(t, 0.06)
				county.Switch(up.name).Set(f.faults)
				cs := up.build(county, testUpstream)
				h := openHub(t, county.World.Tree, cs)
				h.syncAll(t)

				want, broken := up.expect(county.World)
				if len(broken) == 0 {
					t.Fatal("the world broke no record of this upstream")
				}
				assertSameSet(t, h.indexedOf(t, cs[0].Source()), want)
				got := map[string]bool{}
				for _, r := range h.quarantined(t, up.connector) {
					if r.Reason == "" || r.Raw == "" {
						t.Errorf("quarantined %s without reason or raw record", r.SourceID)
					}
					got[r.SourceID] = true
				}
				assertSameSet(t, got, broken)
				states, _ := h.runner.States()
				for _, s := range states {
					if s.Pending != 0 {
						t.Errorf("%s still has %d events waiting", s.Name, s.Pending)
					}
				}
			})
		}
		t.Run(up.name+"/renamed field", func(t *testing.T) {
			t.Parallel()
			county := newCounty(t, 0)
			county.Switch(up.name).Set(sim.Faults{RenameFrom: up.driftFrom, RenameTo: up.driftTo})
			cs := up.build(county, testUpstream)
			h := openHub(t, county.World.Tree, cs)
			h.syncAll(t)
			want, _ := up.expect(county.World)
			q := h.quarantined(t, up.connector)
			if n := len(h.indexedOf(t, cs[0].Source())); n != 0 || len(q) != len(want) {
				t.Fatalf("after drift: %d indexed, %d quarantined of %d records; want all quarantined", n, len(q), len(want))
			}
			for _, r := range q {
				if !strings.Contains(r.Reason, up.driftReason) {
					t.Fatalf("reason %q does not name the drifted field (%s)", r.Reason, up.driftReason)
				}
			}
		})
		t.Run(up.name+"/breaker", func(t *testing.T) {
			t.Parallel()
			county := newCounty(t, 0)
			cs := up.build(county, testUpstream)
			h := openHub(t, county.World.Tree, cs)
			county.Switch(up.name).Set(sim.Faults{Down: true})
			for range testUpstream.BreakerFailures {
				h.runner.SyncBatch(context.Background(), cs[0])
			}
			if s := cs[0].(interface{ BreakerState() string }).BreakerState(); s != "open" {
				t.Fatalf("breaker is %s after the upstream went down, want open", s)
			}
			county.Switch(up.name).Set(sim.Faults{})
			time.Sleep(testUpstream.BreakerCooldown + 20*time.Millisecond)
			h.syncAll(t)
			if s := cs[0].(interface{ BreakerState() string }).BreakerState(); s != "closed" {
				t.Fatalf("breaker is %s after recovery, want closed", s)
			}
			want, _ := up.expect(county.World)
			assertSameSet(t, h.indexedOf(t, cs[0].Source()), want)
		})
	}
}

func TestProjectRegistryLinksEventsThatMentionProjects(t *testing.T) {
	t.Parallel()
	county := newCounty(t, 0.05)
	w := county.World
	// Events first, projects after: the registry's arrival links what came before.
	cs := append([]fengqiao.Connector{hotline12345.New(hotline12345.Config{BaseURL: county.URL["hotline"], APIKey: county.Secret, PageSize: 200}, nil)},
		manifestConnectors(t, county, testUpstream, "projects")...)
	h := openHub(t, w.Tree, cs)
	h.syncAll(t)

	stored, err := h.state.Projects()
	if err != nil {
		t.Fatal(err)
	}
	want, broken := map[string]bool{}, map[string]bool{}
	for _, p := range w.Projects {
		if p.Malformed == "" {
			want[p.XMBM] = true
		} else {
			broken[p.XMBM] = true
		}
	}
	got := map[string]bool{}
	for _, p := range stored {
		got[p.Code] = true
		if p.Name == "" || p.Class == "" || p.Owner == nil || w.Tree.Unit(p.OrgCode) == nil {
			t.Errorf("project %+v incomplete", p)
		}
	}
	assertSameSet(t, got, want)
	q := map[string]bool{}
	for _, r := range h.quarantined(t, "projects") {
		q[r.SourceID] = true
	}
	assertSameSet(t, q, broken)

	// Every work order that names a stored project is linked to it.
	linked := 0
	for _, o := range w.Hotline {
		for _, p := range w.Projects {
			if want[p.XMBM] && strings.Contains(o.SQNR, p.XMMC) && o.Malformed == "" {
				e, err := h.index.Get(context.Background(), fengqiao.EventID(fengqiao.SourceHotline12345, o.GDBH))
				if err != nil {
					t.Fatal(err)
				}
				if e.ProjectCode != p.XMBM {
					t.Errorf("order %s names %s but is linked to %q", o.GDBH, p.XMMC, e.ProjectCode)
				}
				linked++
			}
		}
	}
	if linked == 0 {
		t.Fatal("no work order names a project: the test proves nothing")
	}
}

func TestPoliceTokensExpireAndAreRefreshed(t *testing.T) {
	t.Parallel()
	county := newCounty(t, 0)
	county.Police.TokenTTL = time.Second
	conn := police110.New(police110.Config{BaseURL: county.URL["police"], ClientID: "fengqiao", ClientSecret: county.Secret, PageSize: 500, Upstream: testUpstream}, nil)
	h := openHub(t, county.World.Tree, []fengqiao.Connector{conn})
	h.syncAll(t)

	add := func(id string) {
		i := *county.World.Police[0]
		i.JQBH, i.JQLB, i.Malformed = id, "纠纷", ""
		county.Police.Put(&i)
	}
	// The token expires: the connector takes a new one before using it.
	time.Sleep(1100 * time.Millisecond)
	add("J-AFTER-EXPIRY")
	h.syncAll(t)
	// The platform forgets its tokens early: the refused call is retried with a new one.
	county.Police.TokenTTL = time.Hour
	county.Police.RevokeTokens()
	add("J-AFTER-REVOKE")
	h.syncAll(t)
	for _, id := range []string{"J-AFTER-EXPIRY", "J-AFTER-REVOKE"} {
		if _, err := h.index.Get(context.Background(), fengqiao.EventID(fengqiao.SourcePolice110, id)); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}
