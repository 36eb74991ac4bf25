package cockpit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/cockpit"
	"fengqiao/search"
)

// randomEvents returns n events spread over the county's units (a few placed
// nowhere in it), every source, status, tier, some categories and outcomes, two
// years, and deadlines past and future.
func randomEvents(seed uint64, n int) []*fengqiao.Event {
	rnd := rand.New(rand.NewPCG(seed, seed))
	tree := fengqiao.Wenling()
	var units []string
	for _, level := range []fengqiao.OrgLevel{fengqiao.LevelTown, fengqiao.LevelVillage, fengqiao.LevelGrid} {
		for _, u := range tree.Units(level) {
			units = append(units, u.Code)
		}
	}
	pick := func(values ...string) string { return values[rnd.IntN(len(values))] }
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, fengqiao.CST)
	var events []*fengqiao.Event
	for i := range n {
		source := fengqiao.Source(pick(string(fengqiao.SourceHotline12345), string(fengqiao.SourcePolice110), string(fengqiao.SourceMediation),
			string(fengqiao.SourceSurvey), string(fengqiao.SourceAlert), string(fengqiao.SourceCourt), string(fengqiao.SourceApp)))
		reported := start.Add(time.Duration(rnd.Int64N(int64(2 * 365 * 24 * time.Hour))))
		e := &fengqiao.Event{ID: fmt.Sprintf("%s:%d", source, i), Source: source, SourceID: fmt.Sprint(i), Title: "事件",
			Kind:     fengqiao.EventKind(pick(string(fengqiao.KindComplaint), string(fengqiao.KindDispute), string(fengqiao.KindAlert), "")),
			Status:   fengqiao.EventStatus(pick(string(fengqiao.StatusReceived), string(fengqiao.StatusDispatched), string(fengqiao.StatusInProgress), string(fengqiao.StatusResolved), string(fengqiao.StatusClosed))),
			Category: pick("噪音扰民", "拖欠工资", "烟感告警", "溺水预警", "邻里纠纷", ""), Outcome: pick("满意", "基本满意", "不满意", "调解成功", ""),
			HandlingLevel: fengqiao.HandlingLevel(pick(string(fengqiao.HandlingCounty), string(fengqiao.HandlingTown), string(fengqiao.HandlingVillage), string(fengqiao.HandlingGrid), "")),
			OrgCode:       units[rnd.IntN(len(units))], ReportedAt: reported, UpdatedAt: reported}
		if source == fengqiao.SourceApp {
			e.App = pick("board", "mailbox")
			e.ID = fengqiao.AppEventID(e.App, e.SourceID)
		}
		switch rnd.IntN(10) {
		case 0:
			e.OrgCode = "" // placed nowhere
		case 1, 2, 3:
			d := reported.Add(time.Duration(rnd.IntN(30*24)) * time.Hour)
			e.Deadline = &d
		case 4:
			d := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
			e.Deadline = &d
		}
		events = append(events, e)
	}
	return events
}

// filled returns a tally holding random events, some written twice with a new
// status and a report moved to another month.
func filled(t *testing.T) *cockpit.Tally {
	t.Helper()
	tally := openTally(t)
	events := randomEvents(1, 4000)
	ctx := context.Background()
	for i := 0; i < len(events); i += 500 {
		if err := tally.Upsert(ctx, events[i:i+500]); err != nil {
			t.Fatal(err)
		}
	}
	var again []*fengqiao.Event
	for _, e := range events[:300] {
		c := *e
		c.Status = fengqiao.StatusClosed
		c.ReportedAt = c.ReportedAt.AddDate(0, 1, 3)
		again = append(again, &c)
	}
	if err := tally.Upsert(ctx, again); err != nil {
		t.Fatal(err)
	}
	return tally
}

// The cockpit counts from its rows exactly what the index counts with its own
// queries, for every unit level, period and bucket size.
func TestTallyCountsWhatTheIndexCounts(t *testing.T) {
	t.Parallel()
	tally := filled(t)
	tree := fengqiao.Wenling()
	s, err := cockpit.New(tree, tally, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	town := tree.Units(fengqiao.LevelTown)[3]
	village := town.Children()[0]
	units := []*fengqiao.OrgUnit{tree.Root(), town, village, village.Children()[0]}
	periods := [][2]time.Time{
		{time.Date(2024, 1, 1, 0, 0, 0, 0, fengqiao.CST), time.Date(2026, 1, 1, 0, 0, 0, 0, fengqiao.CST)},
		{time.Date(2025, 3, 1, 0, 0, 0, 0, fengqiao.CST), time.Date(2025, 4, 1, 0, 0, 0, 0, fengqiao.CST)},
		{time.Date(2024, 12, 20, 13, 0, 0, 0, time.UTC), time.Date(2025, 1, 9, 7, 30, 0, 0, time.UTC)},
	}
	settled := []fengqiao.EventStatus{fengqiao.StatusResolved, fengqiao.StatusClosed}
	open := []fengqiao.EventStatus{fengqiao.StatusReceived, fengqiao.StatusDispatched, fengqiao.StatusInProgress}
	for _, u := range units {
		for _, p := range periods {
			for _, g := range []fengqiao.Granularity{fengqiao.Day, fengqiao.Week, fengqiao.Month} {
				if g == fengqiao.Day && p[1].Sub(p[0]) > 40*24*time.Hour {
					continue // the bounds of days are those of weeks; a shorter period checks them
				}
				f, err := s.Figures(ctx, u.Code, p[0], p[1], g)
				if err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("%s %s–%s by %s", u.Code, p[0].Format(time.DateTime), p[1].Format(time.DateTime), g)
				filter := func(change func(*fengqiao.EventFilter)) fengqiao.EventFilter {
					from, to := p[0], p[1]
					f := fengqiao.EventFilter{From: &from, To: &to}
					if u != tree.Root() {
						f.OrgCode = &u.Code
					}
					if change != nil {
						change(&f)
					}
					return f
				}
				count := func(what string, got int, change func(*fengqiao.EventFilter)) {
					t.Helper()
					want, err := tally.Index.Count(ctx, filter(change))
					if err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Errorf("%s: %s = %d, the index counts %d", name, what, got, want)
					}
				}
				count("total", f.Total, nil)
				facets, err := tally.Index.Facets(ctx, filter(nil))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(f.Facets, facets) {
					t.Errorf("%s: facets\n%+v\nthe index's\n%+v", name, *f.Facets, *facets)
				}
				mediation := []fengqiao.Source{fengqiao.SourceMediation}
				count("mediation accepted", f.MediationAccepted, func(f *fengqiao.EventFilter) { f.Sources = mediation })
				count("mediation settled", f.MediationSettled, func(f *fengqiao.EventFilter) {
					f.Sources, f.Statuses = mediation, settled
					f.HandlingLevels = []fengqiao.HandlingLevel{fengqiao.HandlingCounty, fengqiao.HandlingTown, fengqiao.HandlingVillage, fengqiao.HandlingGrid}
				})
				count("surveys", f.Surveys, func(f *fengqiao.EventFilter) { f.Sources = []fengqiao.Source{fengqiao.SourceSurvey} })
				now := time.Now()
				count("overdue", f.Overdue, func(f *fengqiao.EventFilter) { f.Statuses, f.DeadlineBefore = open, &now })
				for _, a := range f.Alerts {
					count("alerts "+a.Type, a.Count, func(f *fengqiao.EventFilter) {
						f.Sources, f.Categories = []fengqiao.Source{fengqiao.SourceAlert}, []string{a.Type}
					})
					count("disposed "+a.Type, a.Disposed, func(f *fengqiao.EventFilter) {
						f.Sources, f.Categories, f.Statuses = []fengqiao.Source{fengqiao.SourceAlert}, []string{a.Type}, settled
					})
				}
				sum := 0
				for i, point := range f.Series {
					end := p[1]
					if i+1 < len(f.Series) {
						end = f.Series[i+1].Start
					}
					count("series at "+point.Start.String(), point.Count, func(f *fengqiao.EventFilter) { f.From, f.To = &point.Start, &end })
					sum += point.Count
				}
				if sum != f.Total {
					t.Errorf("%s: the series adds up to %d of %d", name, sum, f.Total)
				}
				if len(f.Ranking) != len(u.Children()) {
					t.Errorf("%s: %d ranked of %d child units", name, len(f.Ranking), len(u.Children()))
				}
				for _, r := range f.Ranking {
					count("ranking total of "+r.OrgCode, r.Total, func(f *fengqiao.EventFilter) { f.OrgCode = &r.OrgCode })
					count("ranking settled of "+r.OrgCode, r.Settled, func(f *fengqiao.EventFilter) { f.OrgCode, f.Statuses = &r.OrgCode, settled })
				}
			}
		}
	}
}

// scanCounter is a Bleve index that counts the scans the tally asks of it.
type scanCounter struct {
	*search.Bleve
	scans int
}

func (s *scanCounter) Scan(ctx context.Context, fn func([]*fengqiao.Event) error) error {
	s.scans++
	return s.Bleve.Scan(ctx, fn)
}

// pagesOnly is an index that cannot scan; the tally reads it through page by page.
type pagesOnly struct{ fengqiao.Index }

// The tally reads its rows back from its file after a restart, and rebuilds
// them from the index when the file is gone or misses events the index holds,
// whether the index can scan or only page.
func TestTallyReadsBackAndRebuilds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	tree := fengqiao.Wenling()
	events := randomEvents(2, 1500)
	open := func(wrap func(*search.Bleve) fengqiao.Index) (*cockpit.Tally, *fengqiao.CockpitFigures) {
		t.Helper()
		b, err := search.OpenBleve(filepath.Join(dir, "events.bleve"))
		if err != nil {
			t.Fatal(err)
		}
		tally, err := cockpit.OpenTally(ctx, wrap(b), filepath.Join(dir, "tally.db"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := cockpit.New(tree, tally, nil, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		f, err := s.Figures(ctx, tree.Root().Code, time.Date(2024, 1, 1, 0, 0, 0, 0, fengqiao.CST), time.Date(2026, 1, 1, 0, 0, 0, 0, fengqiao.CST), fengqiao.Month)
		if err != nil {
			t.Fatal(err)
		}
		return tally, f
	}
	counter := &scanCounter{}
	counting := func(b *search.Bleve) fengqiao.Index { counter.Bleve = b; return counter }

	tally, _ := open(counting)
	if err := tally.Upsert(ctx, events[:1000]); err != nil {
		t.Fatal(err)
	}
	tally.Close()
	tally, first := open(counting)
	tally.Close()
	if counter.scans != 0 || first.Total != 1000 {
		t.Fatalf("after a restart: %d events counted, %d scans of the index; want 1000 read back from the file", first.Total, counter.scans)
	}

	if err := os.Remove(filepath.Join(dir, "tally.db")); err != nil {
		t.Fatal(err)
	}
	tally, rebuilt := open(counting)
	tally.Close()
	if counter.scans != 1 || !reflect.DeepEqual(rebuilt, first) {
		t.Fatalf("the tally file gone: %d scans, figures\n%+v\nwant\n%+v", counter.scans, rebuilt, first)
	}

	// Events the index took without the tally (an index filled before it).
	b, err := search.OpenBleve(filepath.Join(dir, "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Upsert(ctx, events[1000:]); err != nil {
		t.Fatal(err)
	}
	b.Close()
	tally, paged := open(func(b *search.Bleve) fengqiao.Index { return pagesOnly{b} })
	defer tally.Close()
	if paged.Total != 1500 {
		t.Fatalf("an index holding events the tally missed, read page by page: %d counted, want 1500", paged.Total)
	}
}

// Retention moves old events out of the hot index (into the cold one, or
// nowhere): they stay readable by id from the cold one, and the cockpit's figures
// of old periods do not change, after a restart too.
func TestRetentionKeepsTheFiguresOfOldPeriods(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	tree := fengqiao.Wenling()
	counter := &scanCounter{}
	open := func() *cockpit.Tally {
		t.Helper()
		hot, err := search.OpenBleve(filepath.Join(dir, "events.bleve"))
		if err != nil {
			t.Fatal(err)
		}
		cold, err := search.OpenBleve(filepath.Join(dir, "cold.bleve"))
		if err != nil {
			t.Fatal(err)
		}
		counter.Bleve = hot
		tally, err := cockpit.OpenTally(ctx, &search.Tiered{Index: counter, Cold: cold}, filepath.Join(dir, "tally.db"))
		if err != nil {
			t.Fatal(err)
		}
		return tally
	}
	figures := func(tally *cockpit.Tally) [2]*fengqiao.CockpitFigures {
		t.Helper()
		s, err := cockpit.New(tree, tally, nil, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var out [2]*fengqiao.CockpitFigures
		for i, year := range []int{2024, 2025} {
			from := time.Date(year, 1, 1, 0, 0, 0, 0, fengqiao.CST)
			if out[i], err = s.Figures(ctx, tree.Root().Code, from, from.AddDate(1, 0, 0), fengqiao.Month); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	events := randomEvents(4, 1500)
	tally := open()
	if err := tally.Upsert(ctx, events); err != nil {
		t.Fatal(err)
	}
	before := figures(tally)

	horizon := time.Date(2025, 1, 1, 0, 0, 0, 0, fengqiao.CST)
	var old, middle *fengqiao.Event
	want := 0
	for _, e := range events {
		switch {
		case e.ReportedAt.Before(horizon):
			want++
			old = e
		case e.ReportedAt.Before(horizon.AddDate(0, 6, 0)):
			middle = e
		}
	}
	cold := tally.Index.(*search.Tiered).Cold
	if moved, err := search.Retain(ctx, tally, cold, horizon, nil); err != nil || moved != want {
		t.Fatalf("retention moved %d events (%v), want the %d reported before %v", moved, err, want, horizon)
	}
	if n, _ := tally.Count(ctx, fengqiao.EventFilter{}); n != len(events)-want {
		t.Errorf("the hot index holds %d events, want %d", n, len(events)-want)
	}
	if got, err := tally.Get(ctx, old.ID); err != nil || got.Title != old.Title {
		t.Errorf("an event moved out reads back %v, %v", got, err)
	}
	if found, err := tally.Lookup(ctx, []string{old.ID, middle.ID, "HOTLINE_12345:none"}); err != nil || len(found) != 2 || found[old.ID] == nil {
		t.Errorf("looking up a moved, a hot and an unknown event found %d (%v)", len(found), err)
	}
	if after := figures(tally); !reflect.DeepEqual(after, before) {
		t.Errorf("figures changed by retention:\n%+v\n%+v", *after[0], *before[0])
	}
	tally.Close()

	tally = open()
	defer tally.Close()
	if after := figures(tally); !reflect.DeepEqual(after, before) || counter.scans != 0 {
		t.Errorf("after a restart (%d scans of the index) figures\n%+v\nwant\n%+v", counter.scans, *after[0], *before[0])
	}
	// Dropped rather than moved: gone from every index, still counted.
	if _, err := search.Retain(ctx, tally, nil, horizon.AddDate(0, 6, 0), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tally.Get(ctx, middle.ID); fengqiao.ErrorCode(err) != fengqiao.ENOTFOUND {
		t.Errorf("a dropped event: %v, want ENOTFOUND", err)
	}
	if after := figures(tally); !reflect.DeepEqual(after, before) {
		t.Errorf("figures changed by dropping events:\n%+v\n%+v", *after[1], *before[1])
	}
}

// Counts and facets of a filter the rows answer come from the rows, and are what
// the index counts; a filter they cannot answer (text, a party) goes to the index.
func TestTallyAnswersCountsAndFacetsLikeTheIndex(t *testing.T) {
	t.Parallel()
	tally := filled(t)
	ctx := context.Background()
	tree := fengqiao.Wenling()
	town := tree.Units(fengqiao.LevelTown)[5].Code
	village := tree.Unit(town).Children()[1].Code
	from, to := time.Date(2024, 7, 1, 0, 0, 0, 0, fengqiao.CST), time.Date(2025, 2, 11, 15, 0, 0, 0, fengqiao.CST)
	now, text, nowhere := time.Now(), "事件", "3310819"
	filters := map[string]fengqiao.EventFilter{
		"everything":           {},
		"the county":           {OrgCode: ptr(tree.Root().Code)},
		"a town in a period":   {OrgCode: &town, From: &from, To: &to},
		"a village since":      {OrgCode: &village, From: &from},
		"until":                {To: &from},
		"a unit that is none":  {OrgCode: &nowhere},
		"sources and statuses": {Sources: []fengqiao.Source{fengqiao.SourceAlert, fengqiao.SourceMediation}, Statuses: []fengqiao.EventStatus{fengqiao.StatusClosed}},
		"every app and alerts": {Sources: []fengqiao.Source{fengqiao.SourceApp, fengqiao.SourceAlert}, OrgCode: &town},
		"one app":              {Apps: []string{"mailbox"}, From: &from},
		"an app and a source":  {Apps: []string{"board"}, Sources: []fengqiao.Source{fengqiao.SourceApp, fengqiao.SourceCourt}},
		"kinds, levels":        {Kinds: []fengqiao.EventKind{fengqiao.KindDispute}, HandlingLevels: []fengqiao.HandlingLevel{fengqiao.HandlingGrid, fengqiao.HandlingTown}},
		"categories, outcomes": {Categories: []string{"拖欠工资", "无此类"}, Outcomes: []string{"满意"}, OrgCode: &town},
		"overdue":              {Statuses: []fengqiao.EventStatus{fengqiao.StatusReceived, fengqiao.StatusInProgress}, DeadlineBefore: &now},
		"text (the index)":     {Text: &text, OrgCode: &town},
	}
	for name, f := range filters {
		got, err := tally.Count(ctx, f)
		want, err2 := tally.Index.Count(ctx, f)
		if err != nil || err2 != nil || got != want {
			t.Errorf("%s: count %d (%v), the index %d (%v)", name, got, err, want, err2)
		}
		gotFacets, err := tally.Facets(ctx, f)
		wantFacets, err2 := tally.Index.Facets(ctx, f)
		if err != nil || err2 != nil || !reflect.DeepEqual(gotFacets, wantFacets) {
			t.Errorf("%s: facets\n%+v (%v)\nthe index's\n%+v (%v)", name, gotFacets, err, wantFacets, err2)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Newest-first pages of filters the rows answer come from the rows and are the
// index's pages: the same events in the same order, totals, ends and cursors,
// each side's cursor continuing the other's.
func TestTallyPagesLikeTheIndex(t *testing.T) {
	t.Parallel()
	tally := filled(t)
	ctx := context.Background()
	tree := fengqiao.Wenling()
	town := tree.Units(fengqiao.LevelTown)[2].Code
	from, to := time.Date(2024, 11, 1, 0, 0, 0, 0, fengqiao.CST), time.Date(2025, 3, 1, 0, 0, 0, 0, fengqiao.CST)
	// Ties: events reported at one instant, so that ids order them.
	at := time.Date(2025, 2, 1, 9, 0, 0, 0, fengqiao.CST)
	var ties []*fengqiao.Event
	for i := range 7 {
		id := fmt.Sprintf("T%d", i)
		ties = append(ties, &fengqiao.Event{ID: "MEDIATION:" + id, Source: fengqiao.SourceMediation, SourceID: id, Title: "同时",
			Status: fengqiao.StatusReceived, OrgCode: tree.Unit(town).Children()[0].Code, ReportedAt: at, UpdatedAt: at})
	}
	if err := tally.Upsert(ctx, ties); err != nil {
		t.Fatal(err)
	}
	filters := map[string]fengqiao.EventFilter{
		"everything":         {},
		"a town in a period": {OrgCode: &town, From: &from, To: &to},
		"mediation closed":   {Sources: []fengqiao.Source{fengqiao.SourceMediation}, Statuses: []fengqiao.EventStatus{fengqiao.StatusClosed, fengqiao.StatusReceived}},
		"nothing matches":    {Categories: []string{"无此类"}},
	}
	ids := func(p *fengqiao.EventPage) []string {
		var out []string
		for _, e := range p.Events {
			out = append(out, e.ID)
		}
		return out
	}
	for name, f := range filters {
		for _, size := range []int{0, 7, 100} {
			after, pages := "", 0
			for ; pages < 6; pages++ {
				q := fengqiao.EventQuery{Filter: f, First: size, After: after}
				got, err := tally.Search(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				want, err := tally.Index.Search(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ids(got), ids(want)) || got.Total != want.Total || got.HasNext != want.HasNext ||
					!reflect.DeepEqual(got.Cursors, want.Cursors) || len(got.Highlights) != len(want.Highlights) {
					t.Fatalf("%s, %d a page, page %d: the rows give %v (total %d, more %v), the index %v (total %d, more %v)",
						name, size, pages+1, ids(got), got.Total, got.HasNext, ids(want), want.Total, want.HasNext)
				}
				if !got.HasNext {
					break
				}
				after = got.Cursors[len(got.Cursors)-1]
			}
		}
	}
	if _, err := tally.Search(ctx, fengqiao.EventQuery{First: 5, After: "%%%"}); fengqiao.ErrorCode(err) != fengqiao.EINVALID {
		t.Errorf("a malformed cursor: %v, want EINVALID", err)
	}
}
