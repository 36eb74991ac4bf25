package cockpit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"fengqiao"
	"fengqiao/chains"
	"fengqiao/cockpit"
	"fengqiao/search"
)

const (
	town      = "331081100"    // 泽国镇
	villageA  = "331081100010" // 楼下社区
	villageB  = "331081100020" // 腾蛟社区
	elsewhere = "331081101004"
)

var day1 = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

func at(day int, hour int) time.Time {
	return day1.AddDate(0, 0, day-1).Add(time.Duration(hour) * time.Hour)
}

type fixture struct {
	src      fengqiao.Source
	id, org  string
	day      int
	status   fengqiao.EventStatus
	level    fengqiao.HandlingLevel
	category string
	outcome  string
	project  string
	deadline int // day, 0 for none
}

// The hand-computed fixture of docs/metrics.md's worked example.
var fixtures = []fixture{
	{src: fengqiao.SourceMediation, id: "m1", org: villageA, day: 1, status: fengqiao.StatusResolved, level: fengqiao.HandlingVillage},
	{src: fengqiao.SourceMediation, id: "m2", org: villageA, day: 1, status: fengqiao.StatusResolved, level: fengqiao.HandlingTown},
	{src: fengqiao.SourceMediation, id: "m3", org: villageB, day: 2, status: fengqiao.StatusResolved, level: fengqiao.HandlingCounty},
	{src: fengqiao.SourceMediation, id: "m4", org: villageB, day: 2, status: fengqiao.StatusInProgress, level: fengqiao.HandlingVillage, deadline: 2},
	{src: fengqiao.SourceHotline12345, id: "h1", org: villageA, day: 3, status: fengqiao.StatusResolved, project: "P"},
	{src: fengqiao.SourceHotline12345, id: "h2", org: villageA, day: 3, status: fengqiao.StatusInProgress, project: "P"},
	{src: fengqiao.SourceHotline12345, id: "h3", org: villageB, day: 1, status: fengqiao.StatusResolved},
	{src: fengqiao.SourceSurvey, id: "s1", org: villageA, day: 2, status: fengqiao.StatusClosed, outcome: "满意"},
	{src: fengqiao.SourceSurvey, id: "s2", org: villageB, day: 3, status: fengqiao.StatusClosed, outcome: "不满意"},
	{src: fengqiao.SourceSurvey, id: "s3", org: villageA, day: 3, status: fengqiao.StatusClosed, outcome: "基本满意"},
	{src: fengqiao.SourceAlert, id: "a1", org: villageB, day: 1, status: fengqiao.StatusResolved, category: "烟感告警"},
	{src: fengqiao.SourceAlert, id: "a2", org: villageB, day: 2, status: fengqiao.StatusInProgress, category: "烟感告警"},
	{src: fengqiao.SourceAlert, id: "a3", org: villageA, day: 2, status: fengqiao.StatusResolved, category: "溺水预警"},
	{src: fengqiao.SourceHotline12345, id: "x1", org: villageA, day: 5, status: fengqiao.StatusReceived},  // after the period
	{src: fengqiao.SourceHotline12345, id: "y1", org: elsewhere, day: 1, status: fengqiao.StatusReceived}, // another town
}

// openTally opens a tally over a new Bleve index.
func openTally(t *testing.T) *cockpit.Tally {
	t.Helper()
	dir := t.TempDir()
	bleve, err := search.OpenBleve(filepath.Join(dir, "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	tally, err := cockpit.OpenTally(context.Background(), bleve, filepath.Join(dir, "tally.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tally.Close() })
	return tally
}

func setup(t *testing.T) *cockpit.Service {
	t.Helper()
	idx := openTally(t)
	tree := fengqiao.Wenling()
	store, err := chains.Open(filepath.Join(t.TempDir(), "chains"), tree)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var events []*fengqiao.Event
	for i, f := range fixtures {
		e := &fengqiao.Event{ID: fengqiao.EventID(f.src, f.id), Source: f.src, SourceID: f.id, Kind: fengqiao.KindRequest,
			Title: "事件" + f.id, ReportedAt: at(f.day, 8+i%8), UpdatedAt: at(f.day, 9), Status: f.status, HandlingLevel: f.level,
			OrgCode: f.org, Category: f.category, Outcome: f.outcome, ProjectCode: f.project}
		if f.deadline > 0 {
			d := at(f.deadline, 12)
			e.Deadline = &d
		}
		events = append(events, e)
	}
	ctx := context.Background()
	if err := idx.Upsert(ctx, events); err != nil {
		t.Fatal(err)
	}
	if err := store.Link(ctx, events); err != nil {
		t.Fatal(err)
	}
	s, err := cockpit.New(tree, idx, store, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Not parallel: it reads the process's count of computations.
func TestConcurrentScreensShareOneComputation(t *testing.T) {
	s := setup(t)
	ctx := context.Background()
	computed := func() float64 {
		return testutil.ToFloat64(cockpit.Computations.WithLabelValues("figures"))
	}
	before := computed()
	// 20 screens at once ask for the town's figures: one computation serves them…
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := s.Figures(ctx, town, day1, at(4, 0), fengqiao.Day); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	shared := computed() - before
	// …asking again is answered from the cache, and another period is computed.
	s.Figures(ctx, town, day1, at(4, 0), fengqiao.Day)
	again := computed() - before - shared
	s.Figures(ctx, town, day1, at(3, 0), fengqiao.Day)
	if other := computed() - before - shared - again; shared != 1 || again != 0 || other != 1 {
		t.Fatalf("20 concurrent requests took %v computations, a repeat %v, another period %v; want 1, 0, 1", shared, again, other)
	}
}

func pct(r *float64) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *r)
}

func line(u fengqiao.UnitFigure) string {
	return fmt.Sprintf("%s %d %d %s %s", u.OrgCode, u.Total, u.Settled, pct(u.SettledRate), pct(u.SatisfactionRate))
}

func TestFiguresOfTheWorkedExample(t *testing.T) {
	t.Parallel()
	s := setup(t)
	f, err := s.Figures(context.Background(), town, day1, at(4, 0), fengqiao.Day)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name, got, want string
	}{
		{"total", fmt.Sprint(f.Total), "13"},
		{"by source", fmt.Sprint(f.Facets.Sources), "[{MEDIATION 4} {ALERT 3} {HOTLINE_12345 3} {SURVEY 3}]"},
		{"mediation accepted / settled", fmt.Sprint(f.MediationAccepted, f.MediationSettled), "4 3"},
		{"settled by level", fmt.Sprint(f.SettledByLevel), "[{COUNTY 1} {TOWN 1} {VILLAGE 1}]"},
		{"就地化解率", pct(f.OnSiteRate), "0.667"},
		{"调处率", pct(f.MediationRate), "0.750"},
		{"初次反映", fmt.Sprint(f.FirstReports, f.FirstResolved), "6 4"},
		{"初次反映问题化解率", pct(f.FirstResolvedRate), "0.667"},
		{"满意率", fmt.Sprint(f.Surveys, " ", pct(f.SatisfactionRate)), "3 0.667"},
		{"overdue", fmt.Sprint(f.Overdue), "1"},
		{"alerts", fmt.Sprintf("%s %d %d %s | %s %d %d %s", f.Alerts[0].Type, f.Alerts[0].Count, f.Alerts[0].Disposed, pct(f.Alerts[0].DisposalRate),
			f.Alerts[1].Type, f.Alerts[1].Count, f.Alerts[1].Disposed, pct(f.Alerts[1].DisposalRate)), "烟感告警 2 1 0.500 | 溺水预警 1 1 1.000"},
		{"series", fmt.Sprintf("%d %d %d", f.Series[0].Count, f.Series[1].Count, f.Series[2].Count), "4 5 4"},
		{"series length", fmt.Sprint(len(f.Series)), "3"},
		{"ranking first", line(f.Ranking[0]), villageA + " 7 6 0.857 1.000"},
		{"ranking second", line(f.Ranking[1]), villageB + " 6 4 0.667 0.000"},
		{"a village with nothing", line(f.Ranking[2])[13:], "0 0 - -"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}

	// The county sees the other town's event too; a village only its own.
	county, _ := s.Figures(context.Background(), "331081", day1, at(4, 0), fengqiao.Day)
	village, _ := s.Figures(context.Background(), villageA, day1, at(4, 0), fengqiao.Day)
	if county.Total != 14 || village.Total != 7 {
		t.Errorf("county %d, village %d; want 14 and 7", county.Total, village.Total)
	}
	if _, err := s.Figures(context.Background(), town, at(4, 0), day1, fengqiao.Day); fengqiao.ErrorCode(err) != fengqiao.EINVALID {
		t.Errorf("a period that ends before it starts: %v", err)
	}
}

func TestTrendWarningsCompareACategoryWithItsOwnBaseline(t *testing.T) {
	t.Parallel()
	idx := openTally(t)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var events []*fengqiao.Event
	add := func(category string, daysAgo, n int) {
		for i := range n {
			at := now.Add(-time.Duration(daysAgo)*24*time.Hour - time.Duration(i+1)*time.Minute)
			id := fmt.Sprintf("%s-%d-%d", category, daysAgo, i)
			events = append(events, &fengqiao.Event{ID: "HOTLINE_12345:" + id, Source: fengqiao.SourceHotline12345, SourceID: id,
				Title: category, Category: category, ReportedAt: at, UpdatedAt: at, Status: fengqiao.StatusReceived, OrgCode: villageA})
		}
	}
	for w := range 9 {
		add("噪音扰民", 7*w+2, 3) // steady: 3 a week
		if w > 0 {
			add("拖欠工资", 7*w+2, 1) // 1 a week…
		}
	}
	add("拖欠工资", 1, 5) // …then 5 in the latest week
	add("占道经营", 3, 4) // new, but below the minimum
	if err := idx.Upsert(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	s, err := cockpit.New(fengqiao.Wenling(), idx, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	warnings, err := s.Trends(context.Background(), town, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 {
		t.Fatalf("warnings = %+v, want one", warnings)
	}
	w := warnings[0]
	if w.OrgCode != villageA || w.Category != "拖欠工资" || w.Current != 5 || w.Baseline != 1 || w.Ratio != 5 || fmt.Sprint(w.History) != "[1 1 1 1 1 1 1 1]" {
		t.Fatalf("warning = %+v", w)
	}
}
