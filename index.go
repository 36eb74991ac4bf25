package fengqiao

import (
	"context"
	"encoding/base64"
	"strings"
	"time"
)

// EventFilter narrows a set of events. Nil fields are not applied.
type EventFilter struct {
	Sources []Source
	// Apps keeps the events of these long-tail apps (by connector name).
	Apps     []string
	Kinds    []EventKind
	Statuses []EventStatus
	// OrgCode keeps events placed in this unit or any unit below it.
	OrgCode *string
	// From and To bound ReportedAt: From inclusive, To exclusive.
	From *time.Time
	To   *time.Time
	// Text keeps events whose title, content, party names or address contain the
	// words (Chinese or not; traditional and full-width characters match their
	// simplified and half-width forms).
	Text *string
	// Identifier keeps events that carry this exact identifier: an ID number, a
	// phone, a 统一社会信用代码, a source number (case number, work-order number) or
	// a project code.
	Identifier *string
	// Categories keeps events of any of these categories.
	Categories []string
	// HandlingLevels keeps events handled at any of these tiers.
	HandlingLevels []HandlingLevel
	// Outcomes keeps events whose upstream outcome is any of these (满意, 调解成功…).
	Outcomes []string
	// DeadlineBefore keeps events with a deadline before this time.
	DeadlineBefore *time.Time
	// PartyID keeps events that name this person or organization.
	PartyID *string
	// ProjectCode keeps events about this key project.
	ProjectCode *string
	// RefersTo keeps events about this event (its surveys).
	RefersTo *string
}

// EventQuery is a filtered, paged read of events.
type EventQuery struct {
	Filter EventFilter
	// First is the page size; the index caps it at MaxPageSize.
	First int
	// After is the EndCursor of the previous page, or "" for the first page.
	After string
	// ByRelevance ranks events by how well they match Filter.Text instead of newest
	// first. Ranked pages reach MaxRankedResults deep; newest-first pages have no limit.
	ByRelevance bool
}

// MaxRankedResults is how deep relevance-ranked pages go.
const MaxRankedResults = 10000

// MaxPageSize is the largest page any query may ask for.
const MaxPageSize = 100

// EventPage is one page of an EventQuery.
type EventPage struct {
	Events []*Event
	// Cursors[i] is the cursor just after Events[i].
	Cursors []string
	// Total counts every event that matches the filter, across all pages.
	Total   int
	HasNext bool
	// Highlights[i] are fragments of Events[i] around the words of Filter.Text,
	// with the words marked <mark>…</mark>.
	Highlights [][]string
}

// FacetCount is how many events have one value of a field.
type FacetCount struct {
	Value string
	Count int
}

// Facets count the events of a filter by source, category, town, kind, status and
// handling level, most first; Apps splits the long-tail apps' count (source APP)
// by app.
type Facets struct {
	Sources        []FacetCount
	Apps           []FacetCount
	Categories     []FacetCount
	Towns          []FacetCount
	Kinds          []FacetCount
	Statuses       []FacetCount
	HandlingLevels []FacetCount
}

// Index stores events for retrieval and full-text search. Every implementation
// (embedded Bleve, Elasticsearch) passes the conformance suite in search/indextest.
type Index interface {
	// Upsert writes events keyed by ID; writing the same ID again replaces it, so a
	// replay never duplicates. It returns only after the batch is durable.
	Upsert(ctx context.Context, events []*Event) error
	// Delete removes the events with the given ids; ids it does not hold are
	// ignored. Retention moves old events out with it.
	Delete(ctx context.Context, ids []string) error
	// Get returns the event with the given id, or ENOTFOUND.
	Get(ctx context.Context, id string) (*Event, error)
	// Lookup returns the events among ids that exist, by id.
	Lookup(ctx context.Context, ids []string) (map[string]*Event, error)
	// Search returns one page of the events matching q. A malformed cursor is EINVALID.
	Search(ctx context.Context, q EventQuery) (*EventPage, error)
	// Count returns how many events match f.
	Count(ctx context.Context, f EventFilter) (int, error)
	// Facets counts the events matching f by source, category and town.
	Facets(ctx context.Context, f EventFilter) (*Facets, error)
	// Close releases the index.
	Close() error
}

// A newest-first page's cursor is the sort key of its last event, encoded; every
// Index, and the cockpit's tally that pages filters it can answer, write and read
// it alike, so that pages from either continue each other.

// SortKey orders events newest reported first, ties broken by id: the greater
// key is the newer event.
func SortKey(reportedAt time.Time, id string) string {
	return reportedAt.UTC().Format(sortKeyLayout) + "|" + id
}

const sortKeyLayout = "20060102T150405.000000000"

// ParseSortKey splits a sort key into its reporting time and id; ok is false when
// key is not one.
func ParseSortKey(key string) (reportedAt time.Time, id string, ok bool) {
	at, id, found := strings.Cut(key, "|")
	t, err := time.Parse(sortKeyLayout, at)
	return t, id, found && err == nil
}

// EncodeCursor encodes a cursor's content (a sort key, or a ranked page's offset).
func EncodeCursor(content string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(content))
}

// DecodeCursor decodes what EncodeCursor encoded: a newest-first page's sort key
// or a ranked page's offset ("rank:N"); "" is the first page. Anything else —
// not base64url, not in its canonical form, or holding neither — is EINVALID, so
// that a damaged cursor is an error instead of silently starting from the top.
func DecodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	content := string(b)
	if err != nil || EncodeCursor(content) != c || (!isSortKey(content) && !isRankCursor(content)) {
		return "", badCursor(c)
	}
	return content, nil
}

// CheckCursor decodes a cursor for a page of the given order: a ranked page's
// cursor continues only ranked pages, a newest-first page's only newest-first
// ones; either the other way round is EINVALID.
func CheckCursor(c string, ranked bool) error {
	content, err := DecodeCursor(c)
	if err != nil || content == "" {
		return err
	}
	if isRankCursor(content) != ranked {
		return Errorf(EINVALID, "分页游标无效：该游标属于按%s排序的分页，不能用于按%s排序的查询", orderName(!ranked), orderName(ranked))
	}
	return nil
}

func orderName(ranked bool) string {
	if ranked {
		return "相关度"
	}
	return "时间"
}

func badCursor(c string) error {
	if r := []rune(c); len(r) > 40 {
		c = string(r[:40]) + "…"
	}
	return Errorf(EINVALID, "分页游标无效：%q，请使用上一页返回的 endCursor", c)
}

func isSortKey(content string) bool {
	_, id, ok := ParseSortKey(content)
	return ok && id != ""
}

func isRankCursor(content string) bool {
	n, ok := strings.CutPrefix(content, "rank:")
	if !ok || n == "" || len(n) > 9 {
		return false
	}
	for _, r := range n {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
