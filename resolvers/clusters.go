package resolvers

import (
	"context"
	"slices"
	"time"

	"fengqiao"
)

// clusterCandidates bounds how many of the most recently active clusters a list
// weighs for the caller.
const clusterCandidates = 200

// risingWeeks is the span Rising compares with the span before it.
const risingWeeks = 4

// clusterView builds what the caller may see of a cluster: its events for which
// keep holds (visible to the caller, and in the cockpit's unit and period), nil if
// none. asOf is the end of the span Rising looks at.
func (r *Resolver) clusterView(ctx context.Context, c *fengqiao.CaseCluster, keep func(*fengqiao.Event) bool, asOf time.Time) (*CaseClusterView, error) {
	found, err := r.Index.Lookup(ctx, c.EventIDs)
	if err != nil {
		return nil, err
	}
	v := &CaseClusterView{ID: c.ID, Title: c.Target + " · " + c.Subject, Target: c.Target, TargetKind: c.TargetKind, Subject: c.Subject}
	for _, e := range found {
		if visible(ctx, e.OrgCode) && keep(e) {
			v.events = append(v.events, e)
		}
	}
	if len(v.events) == 0 {
		return nil, nil
	}
	slices.SortFunc(v.events, func(a, b *fengqiao.Event) int { return b.ReportedAt.Compare(a.ReportedAt) })
	v.Size = len(v.events)
	v.First, v.Last = v.events[len(v.events)-1].ReportedAt, v.events[0].ReportedAt
	reporters := map[string]bool{}
	weeks := map[time.Time]int{}
	recentFrom, previousFrom := asOf.AddDate(0, 0, -7*risingWeeks), asOf.AddDate(0, 0, -14*risingWeeks)
	previous := 0
	for i := len(v.events) - 1; i >= 0; i-- {
		e := v.events[i]
		if !slices.Contains(v.Sources, e.Source) {
			v.Sources = append(v.Sources, e.Source)
		}
		if p := e.Reporter(); p != "" {
			reporters[p] = true
		}
		weeks[weekOf(e.ReportedAt)]++
		switch t := e.ReportedAt; {
		case t.After(asOf):
		case t.After(recentFrom):
			v.recent++
		case t.After(previousFrom):
			previous++
		}
	}
	v.Reporters = len(reporters)
	v.Rising = v.recent >= 3 && v.recent > 2*previous
	for w := weekOf(v.First); !w.After(v.Last); w = w.AddDate(0, 0, 7) {
		v.Weekly = append(v.Weekly, fengqiao.SeriesPoint{Start: w, Count: weeks[w]})
	}
	return v, nil
}

// weekOf returns the Monday 00:00 China Standard Time that starts t's week.
func weekOf(t time.Time) time.Time {
	t = t.In(fengqiao.CST)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, fengqiao.CST)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

// clustersFor returns the views of the most recently active clusters with at
// least minReporters distinct reporters among the events keep holds, ordered;
// the caller audits the look at them.
func (r *Resolver) clustersFor(ctx context.Context, since time.Time, minReporters int, keep func(*fengqiao.Event) bool, asOf time.Time, order ClusterOrder, n int) ([]*CaseClusterView, error) {
	if r.Clusters == nil {
		return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "类案串联未启用")
	}
	minReporters = max(minReporters, 1)
	candidates, err := r.Clusters.Clusters(ctx, fengqiao.ClusterFilter{MinReporters: minReporters, Since: since}, clusterCandidates)
	if err != nil {
		return nil, err
	}
	var out []*CaseClusterView
	for _, c := range candidates {
		v, err := r.clusterView(ctx, c, keep, asOf)
		if err != nil {
			return nil, err
		}
		if v != nil && v.Reporters >= minReporters {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b *CaseClusterView) int {
		switch order {
		case ClusterOrderRising:
			if a.Rising != b.Rising {
				return boolRank(b.Rising) - boolRank(a.Rising)
			}
			return b.recent - a.recent
		case ClusterOrderLatest:
			return b.Last.Compare(a.Last)
		}
		if a.Reporters != b.Reporters {
			return b.Reporters - a.Reporters
		}
		return b.Size - a.Size
	})
	return out[:min(n, len(out))], nil
}

// auditClusters records the caller's look at each cluster.
func (r *Resolver) auditClusters(ctx context.Context, views []*CaseClusterView) error {
	for _, v := range views {
		if err := r.audit(ctx, "查看类案", v.ID); err != nil {
			return err
		}
	}
	return nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// derefOr returns *p, or dflt when p is nil.
func derefOr[T any](p *T, dflt T) T {
	if p == nil {
		return dflt
	}
	return *p
}
