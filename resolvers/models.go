package resolvers

import (
	"time"

	"fengqiao"
)

// EventConnection is a page of events; it remembers its filter for facets.
type EventConnection struct {
	TotalCount int
	Edges      []*EventEdge
	PageInfo   *PageInfo
	filter     fengqiao.EventFilter
}

// EventEdge is one event of a page.
type EventEdge struct {
	Cursor     string
	Node       *fengqiao.Event
	Highlights []string
}

// PageInfo says where a page ends.
type PageInfo struct {
	HasNextPage bool
	EndCursor   *string
}

// Place is the view of one address.
type Place struct {
	Address string
	OrgUnit *fengqiao.OrgUnit
}

// ChainView is a chain as the caller may see it: its visible events and what they
// tell together.
type ChainView struct {
	ID            string
	Title         string
	Size          int
	Timeline      []*fengqiao.Event
	Sources       []fengqiao.Source
	From, To      time.Time
	SpanDays      int
	People        []*fengqiao.Person
	Organizations []*fengqiao.Organization
	Complainants  int
	// MaxReportsByOne is the most events one complainant brought.
	MaxReportsByOne int
}

// facts is what risk rules know of the chain.
func (v *ChainView) facts() fengqiao.ChainFacts {
	return fengqiao.ChainFacts{Size: v.Size, Sources: v.Sources, Complainants: v.Complainants, MaxReportsByOne: v.MaxReportsByOne}
}

// CaseClusterView is what a caller may see of a case cluster: only its events in
// the caller's subtree (and the cockpit's unit and period), counted afresh.
type CaseClusterView struct {
	ID, Title, Target, TargetKind, Subject string
	Size, Reporters                        int
	Sources                                []fengqiao.Source
	First, Last                            time.Time
	Weekly                                 []fengqiao.SeriesPoint
	Rising                                 bool
	// recent is how many events fall in the 4 weeks that decide Rising.
	recent int
	events []*fengqiao.Event // newest first
}

// IsEntity marks Chain as a federation entity, keyed by id (docs/federation.md).
func (ChainView) IsEntity() {}
