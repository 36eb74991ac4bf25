package fengqiao

import (
	"context"
	"time"
)

// CockpitFigures are the figures of a cockpit for one org unit and period
// [From, To). docs/metrics.md defines each.
type CockpitFigures struct {
	OrgCode  string
	From, To time.Time
	// Total counts the events reported in the period, and Facets split them.
	Total  int
	Facets *Facets
	// Mediation: cases accepted, settled (resolved or closed), and settled by the
	// tier that handled them.
	MediationAccepted int
	MediationSettled  int
	SettledByLevel    []FacetCount
	// OnSiteRate is 就地化解率: settled at town, village or grid ÷ settled.
	OnSiteRate *float64
	// MediationRate is 调处率: settled ÷ accepted.
	MediationRate *float64
	// FirstReports are events that opened a matter in the period; FirstResolved
	// those settled without the matter being reported again (初次反映问题化解率).
	FirstReports      int
	FirstResolved     int
	FirstResolvedRate *float64
	// Surveys and SatisfactionRate (满意率: 满意 or 基本满意 ÷ surveys).
	Surveys          int
	SatisfactionRate *float64
	// Overdue counts unsettled events past their deadline.
	Overdue int
	// Alerts by type, with how many were disposed of.
	Alerts []AlertFigure
	// Series counts events per bucket of the period.
	Series []SeriesPoint
	// Ranking is the child units (晾晒), best settlement rate first.
	Ranking []UnitFigure
}

// AlertFigure is one alert type's count and disposal.
type AlertFigure struct {
	Type         string
	Count        int
	Disposed     int
	DisposalRate *float64
}

// SeriesPoint is the count of one bucket starting at Start.
type SeriesPoint struct {
	Start time.Time
	Count int
}

// UnitFigure is one child unit's line in the ranking.
type UnitFigure struct {
	OrgCode          string
	Total            int
	Settled          int
	SettledRate      *float64
	SatisfactionRate *float64
}

// Granularity is the bucket of a series.
type Granularity string

const (
	Day   Granularity = "DAY"
	Week  Granularity = "WEEK"
	Month Granularity = "MONTH"
)

// CockpitService computes cockpit figures; the cockpit package implements it.
type CockpitService interface {
	Figures(ctx context.Context, orgCode string, from, to time.Time, g Granularity) (*CockpitFigures, error)
	// Trends returns the categories rising in the unit's child units (or the unit,
	// if it has none) in the week before at, strongest first.
	Trends(ctx context.Context, orgCode string, at time.Time) ([]TrendWarning, error)
}

// TrendWarning (趋势性、苗头性问题) is a category rising in a unit against its own
// baseline: the events of the latest window, the weekly counts before it, and
// their mean.
type TrendWarning struct {
	OrgCode  string
	Category string
	From, To time.Time // the latest window
	Current  int
	History  []int // the windows before, oldest first
	Baseline float64
	Ratio    float64 // Current ÷ max(Baseline, 1)
}
