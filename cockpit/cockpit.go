// Package cockpit computes the figures of the layered cockpits (county → town →
// village → grid) from the index and the chains, and caches them: many screens ask
// for the same unit and period, and one computation serves them all.
package cockpit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"golang.org/x/sync/singleflight"

	"fengqiao"
)

// Service computes and caches cockpit figures.
type Service struct {
	tree   *fengqiao.OrgTree
	index  fengqiao.Index
	chains fengqiao.ChainService
	now    func() time.Time
	ttl    time.Duration
	cache  *ristretto.Cache[string, any]
	flight singleflight.Group
}

var _ fengqiao.CockpitService = (*Service)(nil)

// New returns the service. Figures are cached for ttl (default 30 s), in at most
// about 64 MiB.
func New(tree *fengqiao.OrgTree, index fengqiao.Index, chains fengqiao.ChainService, ttl time.Duration) (*Service, error) {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	cache, err := ristretto.NewCache(&ristretto.Config[string, any]{
		NumCounters: 100_000, MaxCost: 64 << 20, BufferItems: 64,
	})
	if err != nil {
		return nil, err
	}
	return &Service{tree: tree, index: index, chains: chains, now: time.Now, ttl: ttl, cache: cache}, nil
}

// Figures implements fengqiao.CockpitService.
func (s *Service) Figures(ctx context.Context, orgCode string, from, to time.Time, g fengqiao.Granularity) (*fengqiao.CockpitFigures, error) {
	v, err := s.cached(fmt.Sprintf("figures|%s|%d|%d|%s", orgCode, from.UnixNano(), to.UnixNano(), g), func() (any, error) {
		return s.compute(ctx, orgCode, from, to, g)
	})
	if err != nil {
		return nil, err
	}
	return v.(*fengqiao.CockpitFigures), nil
}

// cached returns the cached value of key, or computes it: concurrent requests
// for the same key share one computation, whose result is cached for the TTL.
func (s *Service) cached(key string, compute func() (any, error)) (any, error) {
	if v, ok := s.cache.Get(key); ok {
		return v, nil
	}
	v, err, _ := s.flight.Do(key, func() (any, error) {
		v, err := compute()
		if err == nil {
			s.cache.SetWithTTL(key, v, 4096, s.ttl)
			s.cache.Wait()
		}
		return v, err
	})
	return v, err
}

func rate(part, whole int) *float64 {
	if whole == 0 {
		return nil
	}
	r := float64(part) / float64(whole)
	return &r
}

var settled = []fengqiao.EventStatus{fengqiao.StatusResolved, fengqiao.StatusClosed}

// compute works the figures out; docs/metrics.md defines each.
func (s *Service) compute(ctx context.Context, orgCode string, from, to time.Time, g fengqiao.Granularity) (*fengqiao.CockpitFigures, error) {
	unit := s.tree.Unit(orgCode)
	if unit == nil {
		return nil, fengqiao.Errorf(fengqiao.EINVALID, "组织单元编码不存在：%s", orgCode)
	}
	if !from.Before(to) {
		return nil, fengqiao.Errorf(fengqiao.EINVALID, "统计时段无效：开始须早于结束")
	}
	period := fengqiao.EventFilter{From: &from, To: &to}
	if unit != s.tree.Root() {
		period.OrgCode = &unit.Code
	}
	with := func(change func(f *fengqiao.EventFilter)) fengqiao.EventFilter {
		f := period
		change(&f)
		return f
	}
	q := &queries{ctx: ctx, index: s.index}
	count, facets := q.count, q.facets
	f := &fengqiao.CockpitFigures{OrgCode: unit.Code, From: from, To: to, Total: count(period), Facets: facets(period)}
	mediation := []fengqiao.Source{fengqiao.SourceMediation}
	f.MediationAccepted = count(with(func(f *fengqiao.EventFilter) { f.Sources = mediation }))
	settledMediation := with(func(f *fengqiao.EventFilter) { f.Sources, f.Statuses = mediation, settled })
	byLevel := facets(settledMediation)
	f.SettledByLevel = byLevel.HandlingLevels
	onSite := 0
	for _, l := range byLevel.HandlingLevels {
		f.MediationSettled += l.Count
		if l.Value != string(fengqiao.HandlingCounty) {
			onSite += l.Count
		}
	}
	f.OnSiteRate, f.MediationRate = rate(onSite, f.MediationSettled), rate(f.MediationSettled, f.MediationAccepted)

	surveys := with(func(f *fengqiao.EventFilter) { f.Sources = []fengqiao.Source{fengqiao.SourceSurvey} })
	f.Surveys = count(surveys)
	satisfied := count(with(func(f *fengqiao.EventFilter) {
		f.Sources, f.Outcomes = []fengqiao.Source{fengqiao.SourceSurvey}, []string{"满意", "基本满意"}
	}))
	f.SatisfactionRate = rate(satisfied, f.Surveys)

	now := s.now()
	open := []fengqiao.EventStatus{fengqiao.StatusReceived, fengqiao.StatusDispatched, fengqiao.StatusInProgress}
	f.Overdue = count(with(func(f *fengqiao.EventFilter) { f.Statuses, f.DeadlineBefore = open, &now }))

	alerts := with(func(f *fengqiao.EventFilter) { f.Sources = []fengqiao.Source{fengqiao.SourceAlert} })
	for _, t := range facets(alerts).Categories {
		disposed := count(with(func(f *fengqiao.EventFilter) {
			f.Sources, f.Categories, f.Statuses = []fengqiao.Source{fengqiao.SourceAlert}, []string{t.Value}, settled
		}))
		f.Alerts = append(f.Alerts, fengqiao.AlertFigure{Type: t.Value, Count: t.Count, Disposed: disposed, DisposalRate: rate(disposed, t.Count)})
	}

	for start := from; start.Before(to); start = next(start, g) {
		end := next(start, g)
		if end.After(to) {
			end = to
		}
		f.Series = append(f.Series, fengqiao.SeriesPoint{Start: start, Count: count(with(func(f *fengqiao.EventFilter) { f.From, f.To = &start, &end }))})
	}

	for _, child := range unit.Children() {
		code := child.Code
		total := count(with(func(f *fengqiao.EventFilter) { f.OrgCode = &code }))
		done := count(with(func(f *fengqiao.EventFilter) { f.OrgCode, f.Statuses = &code, settled }))
		childSurveys := count(with(func(f *fengqiao.EventFilter) { f.OrgCode, f.Sources = &code, []fengqiao.Source{fengqiao.SourceSurvey} }))
		childSatisfied := count(with(func(f *fengqiao.EventFilter) {
			f.OrgCode, f.Sources, f.Outcomes = &code, []fengqiao.Source{fengqiao.SourceSurvey}, []string{"满意", "基本满意"}
		}))
		f.Ranking = append(f.Ranking, fengqiao.UnitFigure{OrgCode: code, Total: total, Settled: done,
			SettledRate: rate(done, total), SatisfactionRate: rate(childSatisfied, childSurveys)})
	}
	slices.SortStableFunc(f.Ranking, func(a, b fengqiao.UnitFigure) int {
		ra, rb := orZero(a.SettledRate), orZero(b.SettledRate)
		switch {
		case ra != rb && ra > rb:
			return -1
		case ra != rb:
			return 1
		}
		return b.Total - a.Total
	})

	first, resolved, err := s.firstReports(ctx, period)
	if err != nil {
		return nil, err
	}
	f.FirstReports, f.FirstResolved, f.FirstResolvedRate = first, resolved, rate(resolved, first)
	return f, q.err
}

// queries runs the counts and facets of one computation, keeping the first
// error (later queries answer zero), so the arithmetic reads plainly.
type queries struct {
	ctx   context.Context
	index fengqiao.Index
	err   error
}

func (q *queries) count(f fengqiao.EventFilter) int {
	if q.err != nil {
		return 0
	}
	n, err := q.index.Count(q.ctx, f)
	q.err = err
	return n
}

func (q *queries) facets(f fengqiao.EventFilter) *fengqiao.Facets {
	if q.err == nil {
		facets, err := q.index.Facets(q.ctx, f)
		if q.err = err; err == nil {
			return facets
		}
	}
	return &fengqiao.Facets{}
}

func orZero(r *float64) float64 {
	if r == nil {
		return -1
	}
	return *r
}

// next is the start of the bucket after start.
func next(start time.Time, g fengqiao.Granularity) time.Time {
	switch g {
	case fengqiao.Week:
		return start.AddDate(0, 0, 7)
	case fengqiao.Month:
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 1)
}

// reportSources are where people report a matter first.
var reportSources = []fengqiao.Source{fengqiao.SourceHotline12345, fengqiao.SourcePolice110, fengqiao.SourceMediation}

// firstReports counts the reports in the period that opened their matter (no
// earlier event in their chain), and of them those settled with no later event in
// the chain (the matter was not reported again).
func (s *Service) firstReports(ctx context.Context, period fengqiao.EventFilter) (first, resolved int, err error) {
	f := period
	f.Sources = reportSources
	spans := map[string][2]time.Time{} // chain → earliest, latest report
	for after := ""; ; {
		page, err := s.index.Search(ctx, fengqiao.EventQuery{Filter: f, First: fengqiao.MaxPageSize, After: after})
		if err != nil {
			return 0, 0, err
		}
		for _, e := range page.Events {
			isFirst, isLast := true, true
			if ch, err := s.chains.ChainOf(ctx, e.ID); err != nil {
				return 0, 0, err
			} else if ch != nil {
				span, ok := spans[ch.ID]
				if !ok {
					events, err := s.index.Lookup(ctx, ch.EventIDs)
					if err != nil {
						return 0, 0, err
					}
					for _, m := range events {
						if span[0].IsZero() || m.ReportedAt.Before(span[0]) {
							span[0] = m.ReportedAt
						}
						if m.ReportedAt.After(span[1]) {
							span[1] = m.ReportedAt
						}
					}
					spans[ch.ID] = span
				}
				isFirst, isLast = !e.ReportedAt.After(span[0]), !e.ReportedAt.Before(span[1])
			}
			if !isFirst {
				continue
			}
			first++
			if isLast && slices.Contains(settled, e.Status) {
				resolved++
			}
		}
		if !page.HasNext {
			return first, resolved, nil
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
}

// Trend windows: a category warns when the latest week holds at least
// trendMinEvents events and trendFactor times the mean of the trendWeeks before.
const (
	trendWeeks     = 8
	trendMinEvents = 5
	trendFactor    = 2.0
)

// Trends implements fengqiao.CockpitService.
func (s *Service) Trends(ctx context.Context, orgCode string, at time.Time) ([]fengqiao.TrendWarning, error) {
	v, err := s.cached(fmt.Sprintf("trends|%s|%d", orgCode, at.Truncate(time.Hour).UnixNano()), func() (any, error) {
		return s.trends(ctx, orgCode, at.Truncate(time.Hour))
	})
	if err != nil {
		return nil, err
	}
	return v.([]fengqiao.TrendWarning), nil
}

func (s *Service) trends(ctx context.Context, orgCode string, at time.Time) ([]fengqiao.TrendWarning, error) {
	unit := s.tree.Unit(orgCode)
	if unit == nil {
		return nil, fengqiao.Errorf(fengqiao.EINVALID, "组织单元编码不存在：%s", orgCode)
	}
	units := unit.Children()
	if len(units) == 0 {
		units = []*fengqiao.OrgUnit{unit}
	}
	q := &queries{ctx: ctx, index: s.index}
	week := 7 * 24 * time.Hour
	out := []fengqiao.TrendWarning{}
	for _, u := range units {
		code := u.Code
		// counts[w][category]: w = 0 is the latest week, then back in time.
		counts := make([]map[string]int, trendWeeks+1)
		for w := range counts {
			to := at.Add(-time.Duration(w) * week)
			from := to.Add(-week)
			counts[w] = map[string]int{}
			for _, c := range q.facets(fengqiao.EventFilter{OrgCode: &code, From: &from, To: &to}).Categories {
				counts[w][c.Value] = c.Count
			}
		}
		for category, current := range counts[0] {
			history := make([]int, trendWeeks)
			sum := 0
			for w := 1; w <= trendWeeks; w++ {
				history[trendWeeks-w] = counts[w][category]
				sum += counts[w][category]
			}
			baseline := float64(sum) / trendWeeks
			ratio := float64(current) / max(baseline, 1)
			if current >= trendMinEvents && ratio >= trendFactor {
				out = append(out, fengqiao.TrendWarning{OrgCode: code, Category: category, From: at.Add(-week), To: at,
					Current: current, History: history, Baseline: baseline, Ratio: ratio})
			}
		}
	}
	slices.SortFunc(out, func(a, b fengqiao.TrendWarning) int {
		if a.Ratio != b.Ratio {
			if a.Ratio > b.Ratio {
				return -1
			}
			return 1
		}
		return strings.Compare(a.OrgCode+a.Category, b.OrgCode+b.Category)
	})
	return out, q.err
}
