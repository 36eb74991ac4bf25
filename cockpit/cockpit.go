// Package cockpit computes the figures of the layered cockpits (county → town →
// village → grid) from the index and the chains, and caches them: many screens ask
// for the same unit and period, and one computation serves them all.
package cockpit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"golang.org/x/sync/singleflight"

	"fengqiao"
)

// Service computes and caches cockpit figures.
type Service struct {
	tree   *fengqiao.OrgTree
	tally  *Tally
	chains Memberships
	now    func() time.Time
	ttl    time.Duration
	cache  *ristretto.Cache[string, any]
	flight singleflight.Group

	spans atomic.Pointer[chainSpans]
	kept  atomic.Bool // KeepSpans is running
}

var _ fengqiao.CockpitService = (*Service)(nil)

// Memberships gives the chain of every event that is in one; chains.Store does.
type Memberships interface {
	Membership() (map[string]string, error)
}

// Computations counts the figures worked out, not served from the cache.
var Computations = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "fengqiao_cockpit_computations_total",
	Help: "Cockpit figures worked out from the tally rather than served from the cache, by kind (figures, trends, chainSpans).",
}, []string{"kind"})

func init() {
	for _, kind := range []string{"figures", "trends", "chainSpans"} {
		Computations.WithLabelValues(kind) // at zero from the first scrape
	}
}

// New returns the service over the tally's rows and the chains (nil: none). Figures
// are cached for ttl (default 30 s), in at most about 64 MiB.
func New(tree *fengqiao.OrgTree, tally *Tally, chains Memberships, ttl time.Duration) (*Service, error) {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	cache, err := ristretto.NewCache(&ristretto.Config[string, any]{
		NumCounters: 100_000, MaxCost: 64 << 20, BufferItems: 64, Metrics: true,
	})
	if err != nil {
		return nil, err
	}
	return &Service{tree: tree, tally: tally, chains: chains, now: time.Now, ttl: ttl, cache: cache}, nil
}

// CacheMetrics are the figures cache's hits, misses and evictions (/metrics).
func (s *Service) CacheMetrics() *ristretto.Metrics { return s.cache.Metrics }

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
		if v, ok := s.cache.Get(key); ok {
			return v, nil // computed by a flight that ended after this caller missed the cache
		}
		Computations.WithLabelValues(key[:strings.IndexByte(key, '|')]).Inc()
		v, err := compute()
		if err == nil {
			s.cache.SetWithTTL(key, v, 4096, s.ttl)
			s.cache.Wait()
		}
		return v, err
	})
	return v, err
}

// vocabulary is the words the figures test rows for, as the tally numbers them.
type vocabulary struct {
	mediation, survey, alert          uint32
	settled, open, satisfied, reports set
}

// set is a few word numbers.
type set []uint32

func (s set) has(n uint32) bool { return slices.Contains(s, n) }

func (s *Service) vocabulary() vocabulary {
	w, _ := s.tally.numbers([]string{string(fengqiao.SourceMediation), string(fengqiao.SourceSurvey), string(fengqiao.SourceAlert),
		string(fengqiao.StatusResolved), string(fengqiao.StatusClosed), string(fengqiao.StatusReceived),
		string(fengqiao.StatusDispatched), string(fengqiao.StatusInProgress), "满意", "基本满意",
		string(fengqiao.SourceHotline12345), string(fengqiao.SourcePolice110)}, nil)
	return vocabulary{mediation: w[0], survey: w[1], alert: w[2], settled: set{w[3], w[4]},
		open: set{w[5], w[6], w[7]}, satisfied: set{w[8], w[9]}, reports: set{w[10], w[11], w[0]}}
}

// unitTally counts one child unit's events for the ranking.
type unitTally struct{ total, settled, surveys, satisfied int }

func (u *unitTally) add(settled, survey, satisfied bool) {
	u.total++
	if settled {
		u.settled++
	}
	if survey {
		u.surveys++
		if satisfied {
			u.satisfied++
		}
	}
}

// compute works the figures out in one pass over the rows of the period and
// unit; docs/metrics.md defines each.
func (s *Service) compute(ctx context.Context, orgCode string, from, to time.Time, g fengqiao.Granularity) (*fengqiao.CockpitFigures, error) {
	unit := s.tree.Unit(orgCode)
	if unit == nil {
		return nil, fengqiao.Errorf(fengqiao.EINVALID, "组织单元编码不存在：%s", orgCode)
	}
	if !from.Before(to) {
		return nil, fengqiao.Errorf(fengqiao.EINVALID, "统计时段无效：开始须早于结束")
	}
	spans, err := s.chainSpans()
	if err != nil {
		return nil, err
	}
	scope, level := unit.Code, unitLevel(unit.Code)
	if unit == s.tree.Root() {
		scope = "" // the county counts events placed nowhere in the tree too
	}
	v := s.vocabulary()
	children := unit.Children()
	var childCodes []string
	for _, c := range children {
		childCodes = append(childCodes, c.Code)
	}
	_, childNumbers := s.tally.numbers(nil, childCodes)
	var byChild []*unitTally // by org number
	for _, n := range childNumbers {
		if n != none {
			byChild = append(byChild, make([]*unitTally, max(0, int(n)+1-len(byChild)))...)
			byChild[n] = &unitTally{}
		}
	}
	var starts []time.Time
	var startNanos []int64
	for start := from; start.Before(to); start = next(start, g) {
		starts, startNanos = append(starts, start), append(startNanos, unixNano(start))
	}
	series := make([]int, len(starts))

	f := &fengqiao.CockpitFigures{OrgCode: unit.Code, From: from, To: to}
	var facets facetCounts
	var settledByLevel, alerts, disposed counts
	satisfied := 0
	now := unixNano(s.now())
	s.tally.scan(from, to, scope, func(at place, r *row, path *[4]uint32) {
		f.Total++
		facets.add(r, path)
		settled := v.settled.has(r.status)
		switch r.source {
		case v.mediation:
			f.MediationAccepted++
			if settled {
				settledByLevel.add(r.level)
			}
		case v.survey:
			f.Surveys++
			if v.satisfied.has(r.outcome) {
				satisfied++
			}
		case v.alert:
			alerts.add(r.category)
			if settled {
				disposed.add(r.category)
			}
		}
		if r.deadline < now && v.open.has(r.status) {
			f.Overdue++
		}
		if b, found := slices.BinarySearch(startNanos, r.reported); found {
			series[b]++
		} else if b > 0 {
			series[b-1]++
		}
		if level < 3 {
			if n := path[level+1]; int(n) < len(byChild) && byChild[n] != nil {
				byChild[n].add(settled, r.source == v.survey, v.satisfied.has(r.outcome))
			}
		}
		if v.reports.has(r.source) {
			span := spans[at]
			if span == nil || r.reported <= span[0] { // no earlier event in its chain
				f.FirstReports++
				if settled && (span == nil || r.reported >= span[1]) { // nor a later one
					f.FirstResolved++
				}
			}
		}
	})

	t := s.tally
	f.Facets = facets.facets(t)
	f.SettledByLevel = t.names(settledByLevel, false)
	onSite := 0
	for _, l := range f.SettledByLevel {
		f.MediationSettled += l.Count
		if l.Value != string(fengqiao.HandlingCounty) {
			onSite += l.Count
		}
	}
	f.OnSiteRate, f.MediationRate = rate(onSite, f.MediationSettled), rate(f.MediationSettled, f.MediationAccepted)
	f.SatisfactionRate = rate(satisfied, f.Surveys)
	f.FirstResolvedRate = rate(f.FirstResolved, f.FirstReports)
	disposedOf := map[string]int{}
	for _, d := range t.names(disposed, false) {
		disposedOf[d.Value] = d.Count
	}
	for _, a := range t.names(alerts, false) {
		n := disposedOf[a.Value]
		f.Alerts = append(f.Alerts, fengqiao.AlertFigure{Type: a.Value, Count: a.Count, Disposed: n, DisposalRate: rate(n, a.Count)})
	}
	for i, start := range starts {
		f.Series = append(f.Series, fengqiao.SeriesPoint{Start: start, Count: series[i]})
	}
	for i, child := range children {
		c := &unitTally{}
		if n := childNumbers[i]; n != none {
			c = byChild[n]
		}
		f.Ranking = append(f.Ranking, fengqiao.UnitFigure{OrgCode: child.Code, Total: c.total, Settled: c.settled,
			SettledRate: rate(c.settled, c.total), SatisfactionRate: rate(c.satisfied, c.surveys)})
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
	return f, ctx.Err()
}

// chainSpans maps the row of every event in a chain to the earliest and latest
// report of its chain (an event is a first report when none in its chain came
// before it). Reading every chain's members takes a while at a million events:
// while KeepSpans runs, figures use the spans it last read; otherwise spans older
// than spansFor are read again by the request that finds them so.
func (s *Service) chainSpans() (map[place]*[2]int64, error) {
	if s.chains == nil {
		return nil, nil
	}
	if cur := s.spans.Load(); cur != nil && (s.kept.Load() || time.Since(cur.at) <= spansFor) {
		return cur.byRow, nil
	}
	spans, err := s.refreshSpans()
	if err != nil {
		return nil, err
	}
	return spans.byRow, nil
}

// KeepSpans reads the chain spans now and every spansFor until ctx ends, so that
// no figures wait for them; the hub runs it while it serves.
func (s *Service) KeepSpans(ctx context.Context) {
	if s.chains == nil {
		return
	}
	s.kept.Store(true)
	defer s.kept.Store(false)
	for {
		s.refreshSpans() // on failure the last spans stay, and the next read tries again
		select {
		case <-ctx.Done():
			return
		case <-time.After(spansFor):
		}
	}
}

// refreshSpans reads the spans, once for concurrent callers.
func (s *Service) refreshSpans() (*chainSpans, error) {
	v, err, _ := s.flight.Do("chainSpans|", func() (any, error) {
		spans, err := s.readSpans()
		if err == nil {
			s.spans.Store(spans)
		}
		return spans, err
	})
	if err != nil {
		return nil, err
	}
	return v.(*chainSpans), nil
}

// spansFor is how long chain spans are used before they are read again.
const spansFor = time.Minute

// chainSpans are the spans of the chained events' chains, as read at a time.
type chainSpans struct {
	byRow map[place]*[2]int64
	at    time.Time
}

func (s *Service) readSpans() (*chainSpans, error) {
	Computations.WithLabelValues("chainSpans").Inc()
	members, err := s.chains.Membership()
	if err != nil {
		return nil, err
	}
	byChain := map[string]*[2]int64{}
	spans := &chainSpans{byRow: make(map[place]*[2]int64, len(members)), at: time.Now()}
	for id, chain := range members {
		at, reported, ok := s.tally.lookup(id)
		if !ok {
			continue
		}
		span := byChain[chain]
		if span == nil {
			span = &[2]int64{reported, reported}
			byChain[chain] = span
		}
		span[0], span[1] = min(span[0], reported), max(span[1], reported)
		spans.byRow[at] = span
	}
	return spans, nil
}

func rate(part, whole int) *float64 {
	if whole == 0 {
		return nil
	}
	r := float64(part) / float64(whole)
	return &r
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
	units, level := unit.Children(), unitLevel(unit.Code)+1
	if len(units) == 0 {
		units, level = []*fengqiao.OrgUnit{unit}, level-1
	}
	var codes []string
	for _, u := range units {
		codes = append(codes, u.Code)
	}
	_, numbers := s.tally.numbers(nil, codes)
	// byUnit[unit][w]: w = 0 is the latest week, then back in time.
	byUnit := map[uint32]*[trendWeeks + 1]counts{}
	for _, n := range numbers {
		if n != none {
			byUnit[n] = &[trendWeeks + 1]counts{}
		}
	}
	week := 7 * 24 * time.Hour
	end := unixNano(at)
	s.tally.scan(at.Add(-(trendWeeks+1)*week), at, unit.Code, func(_ place, r *row, path *[4]uint32) {
		if c := byUnit[path[level]]; c != nil {
			c[(end-r.reported-1)/int64(week)].add(r.category)
		}
	})
	out := []fengqiao.TrendWarning{}
	for i, u := range units {
		c := byUnit[numbers[i]]
		if c == nil {
			continue
		}
		for _, current := range s.tally.names(c[0], false) {
			history := make([]int, trendWeeks)
			sum := 0
			for w := 1; w <= trendWeeks; w++ {
				n := s.tally.count(c[w], current.Value)
				history[trendWeeks-w] = n
				sum += n
			}
			baseline := float64(sum) / trendWeeks
			ratio := float64(current.Count) / max(baseline, 1)
			if current.Count >= trendMinEvents && ratio >= trendFactor {
				out = append(out, fengqiao.TrendWarning{OrgCode: u.Code, Category: current.Value, From: at.Add(-week), To: at,
					Current: current.Count, History: history, Baseline: baseline, Ratio: ratio})
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
	return out, ctx.Err()
}
