package resolvers

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"fengqiao"
)

// chainView builds what the caller may see of a chain, nil if none of its events.
// Looking at a chain is audited.
func (r *Resolver) chainView(ctx context.Context, ch *fengqiao.Chain) (*ChainView, error) {
	v, err := r.buildChainView(ctx, ch)
	if v == nil || err != nil {
		return nil, err
	}
	return v, r.audit(ctx, "查看串联", ch.ID)
}

// buildChainView is chainView without the audit entry, for what the hub reads of
// a chain on its own (an event's risk).
func (r *Resolver) buildChainView(ctx context.Context, ch *fengqiao.Chain) (*ChainView, error) {
	if ch == nil {
		return nil, nil
	}
	found, err := r.Index.Lookup(ctx, ch.EventIDs)
	if err != nil {
		return nil, err
	}
	v := &ChainView{ID: ch.ID}
	for _, e := range found {
		if visible(ctx, e.OrgCode) {
			v.Timeline = append(v.Timeline, e)
		}
	}
	if len(v.Timeline) == 0 {
		return nil, nil
	}
	slices.SortFunc(v.Timeline, func(a, b *fengqiao.Event) int { return a.ReportedAt.Compare(b.ReportedAt) })
	v.Size = len(v.Timeline)
	v.Title = cmp.Or(v.Timeline[0].Title, v.Timeline[0].Content)
	v.From, v.To = v.Timeline[0].ReportedAt, v.Timeline[len(v.Timeline)-1].ReportedAt
	v.SpanDays = int(v.To.Sub(v.From) / (24 * time.Hour))
	people, orgs, complainants := map[string]bool{}, map[string]bool{}, map[string]int{}
	for _, e := range v.Timeline {
		if !slices.Contains(v.Sources, e.Source) {
			v.Sources = append(v.Sources, e.Source)
		}
		for _, p := range e.Parties {
			switch {
			case p.Person != nil && !people[p.Person.ID]:
				people[p.Person.ID] = true
				v.People = append(v.People, p.Person)
			case p.Organization != nil && !orgs[p.Organization.ID]:
				orgs[p.Organization.ID] = true
				v.Organizations = append(v.Organizations, p.Organization)
			}
			if p.IsComplainant() {
				complainants[p.Person.ID]++
				v.MaxReportsByOne = max(v.MaxReportsByOne, complainants[p.Person.ID])
			}
		}
	}
	v.Complainants = len(complainants)
	return v, nil
}

// chainsOf returns the chains of a set of events, each once, largest first;
// looking at them is audited.
func (r *Resolver) chainsOf(ctx context.Context, events []*fengqiao.Event) ([]*ChainView, error) {
	views, err := r.chainViewsOf(ctx, events)
	if err != nil {
		return nil, err
	}
	return views, r.auditChains(ctx, views)
}

// chainViewsOf is chainsOf without the audit entries.
func (r *Resolver) chainViewsOf(ctx context.Context, events []*fengqiao.Event) ([]*ChainView, error) {
	seen := map[string]bool{}
	var out []*ChainView
	for _, e := range events {
		ch, err := r.ChainService.ChainOf(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		if ch == nil || seen[ch.ID] {
			continue
		}
		seen[ch.ID] = true
		v, err := r.buildChainView(ctx, ch)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b *ChainView) int { return b.Size - a.Size })
	return out, nil
}

// auditChains records the caller's look at each chain.
func (r *Resolver) auditChains(ctx context.Context, views []*ChainView) error {
	for _, v := range views {
		if err := r.audit(ctx, "查看串联", v.ID); err != nil {
			return err
		}
	}
	return nil
}

// chainsMatching returns the chains of the events (up to a page) matching f;
// looking at them is audited.
func (r *Resolver) chainsMatching(ctx context.Context, f fengqiao.EventFilter) ([]*ChainView, error) {
	views, err := r.chainViewsMatching(ctx, f)
	if err != nil {
		return nil, err
	}
	return views, r.auditChains(ctx, views)
}

// chainViewsMatching is chainsMatching without the audit entries.
func (r *Resolver) chainViewsMatching(ctx context.Context, f fengqiao.EventFilter) ([]*ChainView, error) {
	f, err := r.scopedFilter(ctx, &f)
	if err != nil {
		return nil, err
	}
	page, err := r.Index.Search(ctx, fengqiao.EventQuery{Filter: f, First: fengqiao.MaxPageSize})
	if err != nil {
		return nil, err
	}
	return r.chainViewsOf(ctx, page.Events)
}

func eventIDs(events []*fengqiao.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

// riskiest returns the highest-risk of the newest events matching f (HIGH, then
// MEDIUM), at most n, newest first.
func (r *Resolver) riskiest(ctx context.Context, f fengqiao.EventFilter, n int) ([]*fengqiao.Event, error) {
	byLevel := map[fengqiao.RiskLevel][]*fengqiao.Event{}
	err := r.judgeNewest(ctx, f, func(e *fengqiao.Event, risk fengqiao.Risk) { byLevel[risk.Level] = append(byLevel[risk.Level], e) })
	out := append(byLevel[fengqiao.RiskHigh], byLevel[fengqiao.RiskMedium]...)
	return out[:min(n, len(out))], err
}

// overallRisk is the highest risk among the newest events matching f, with all
// the reasons found.
func (r *Resolver) overallRisk(ctx context.Context, f fengqiao.EventFilter) (*fengqiao.Risk, error) {
	overall := fengqiao.Risk{Level: fengqiao.RiskLow, Reasons: []string{}}
	seen := map[string]bool{}
	err := r.judgeNewest(ctx, f, func(_ *fengqiao.Event, risk fengqiao.Risk) {
		if risk.Level.Rank() > overall.Level.Rank() {
			overall.Level = risk.Level
		}
		for _, why := range risk.Reasons {
			if !seen[why] {
				seen[why] = true
				overall.Reasons = append(overall.Reasons, why)
			}
		}
	})
	return &overall, err
}

// judgeNewest judges the newest 100 events matching f in the caller's subtree,
// each with its chain's facts; chains are read once each.
func (r *Resolver) judgeNewest(ctx context.Context, f fengqiao.EventFilter, judged func(*fengqiao.Event, fengqiao.Risk)) error {
	f, err := r.scopedFilter(ctx, &f)
	if err != nil {
		return err
	}
	page, err := r.Index.Search(ctx, fengqiao.EventQuery{Filter: f, First: fengqiao.MaxPageSize})
	if err != nil {
		return err
	}
	facts := map[string]*fengqiao.ChainFacts{}
	now := time.Now()
	for _, e := range page.Events {
		var cf *fengqiao.ChainFacts
		ch, err := r.ChainService.ChainOf(ctx, e.ID)
		if err != nil {
			return err
		}
		if ch != nil {
			if cf = facts[ch.ID]; cf == nil {
				v, err := r.buildChainView(ctx, ch)
				if err != nil {
					return err
				}
				if v != nil {
					f := v.facts()
					cf = &f
					facts[ch.ID] = cf
				}
			}
		}
		judged(e, r.Assessor.AssessEvent(e, cf, now))
	}
	return nil
}

// subscribe streams what pick makes of the events indexed from now on, in the
// caller's subtree (or the unit asked for inside it), until the subscription ends.
func subscribe[T any](r *Resolver, ctx context.Context, orgCode *string, pick func(*fengqiao.Event) (T, bool)) (<-chan T, error) {
	scope, err := r.scope(ctx, orgCode)
	if err != nil {
		return nil, err
	}
	out := make(chan T, 16)
	go func() {
		defer close(out)
		for e := range r.Feed(ctx) {
			if !strings.HasPrefix(e.OrgCode, scope) {
				continue
			}
			if v, ok := pick(e); ok {
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// addressPhrase is an address as a text query: one quoted phrase, so that its
// parts are found together and in order, spaces included.
func addressPhrase(address string) *string {
	q := `"` + strings.NewReplacer(`"`, " ", "“", " ", "”", " ", "＂", " ").Replace(address) + `"`
	return &q
}
