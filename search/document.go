package search

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"fengqiao"
)

// Field names of an indexed event document, shared by every backend.
const (
	fieldSource     = "source"
	fieldApp        = "app"
	fieldKind       = "kind"
	fieldStatus     = "status"
	fieldCategory   = "category"
	fieldOrgPath    = "orgPath"
	fieldPartyIDs   = "partyIds"
	fieldProject    = "projectCode"
	fieldRefersTo   = "refersTo"
	fieldSortKey    = "sortKey"
	fieldTitle      = "titleGrams"
	fieldContent    = "contentGrams"
	fieldReportedAt = "reportedAt"
	fieldRaw        = "raw"
	fieldNames      = "partyNamesGrams"
	fieldAddress    = "addressGrams"
	fieldIDs        = "identifiers"
	fieldTown       = "town"
	fieldLevel      = "handlingLevel"
	fieldOutcome    = "outcome"
	fieldDeadline   = "deadline"
	fieldFormat     = "textFormat"
)

// textFormat names how documents are indexed: how text fields are (textGrams),
// and which fields there are (grams-2 added the app). An index whose documents
// were indexed otherwise is rebuilt from their stored events.
const textFormat = "grams-2"

// keywordFields are indexed whole, for filters, facets and sorting.
var keywordFields = []string{fieldSource, fieldApp, fieldKind, fieldStatus, fieldCategory, fieldOrgPath, fieldPartyIDs,
	fieldProject, fieldRefersTo, fieldSortKey, fieldIDs, fieldTown, fieldLevel, fieldOutcome}

// facetFields are counted by Facets, in the order of fengqiao.Facets.
var facetFields = []string{fieldSource, fieldApp, fieldCategory, fieldTown, fieldKind, fieldStatus, fieldLevel}

// facetsOf arranges per-field counts as fengqiao.Facets.
func facetsOf(counts func(field string) []fengqiao.FacetCount) *fengqiao.Facets {
	return &fengqiao.Facets{Sources: counts(fieldSource), Apps: counts(fieldApp), Categories: counts(fieldCategory), Towns: counts(fieldTown),
		Kinds: counts(fieldKind), Statuses: counts(fieldStatus), HandlingLevels: counts(fieldLevel)}
}

// textFields are searched by EventFilter.Text: each holds the grams of its text.
var textFields = []string{fieldTitle, fieldContent, fieldNames, fieldAddress}

// newDocument flattens an event into the document every backend indexes. The org
// path holds every ancestor's code, so a subtree filter is one term query.
func newDocument(e *fengqiao.Event) (map[string]any, error) {
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var partyIDs, names []string
	ids := []string{e.SourceID}
	if e.ProjectCode != "" {
		ids = append(ids, e.ProjectCode)
	}
	for _, p := range e.Parties {
		partyIDs = append(partyIDs, p.PartyID())
		switch {
		case p.Person != nil:
			names = append(names, p.Person.Name)
			ids = append(ids, nonEmpty(p.Person.IDNumber, p.Person.Phone)...)
		case p.Organization != nil:
			names = append(names, p.Organization.Name)
			ids = append(ids, nonEmpty(p.Organization.CreditCode)...)
		}
	}
	path := orgPath(e.OrgCode)
	town := ""
	if len(path) > 1 {
		town = path[1]
	}
	doc := map[string]any{
		fieldNames:      textGrams(strings.Join(names, "，")),
		fieldAddress:    textGrams(e.Address),
		fieldIDs:        ids,
		fieldTown:       town,
		fieldLevel:      string(e.HandlingLevel),
		fieldOutcome:    e.Outcome,
		fieldSource:     string(e.Source),
		fieldKind:       string(e.Kind),
		fieldStatus:     string(e.Status),
		fieldCategory:   e.Category,
		fieldOrgPath:    path,
		fieldPartyIDs:   partyIDs,
		fieldProject:    e.ProjectCode,
		fieldRefersTo:   e.RefersTo,
		fieldSortKey:    sortKey(e),
		fieldTitle:      textGrams(e.Title),
		fieldContent:    textGrams(e.Content),
		fieldFormat:     textFormat,
		fieldReportedAt: e.ReportedAt.UTC(),
		fieldRaw:        string(raw),
	}
	if e.Deadline != nil {
		doc[fieldDeadline] = e.Deadline.UTC()
	}
	if e.App != "" {
		doc[fieldApp] = e.App
	}
	return doc, nil
}

// orgPath returns the codes of every unit from the county down to code, using the
// fixed widths of division codes (6, 9, 12, 15 digits).
func orgPath(code string) []string {
	var path []string
	for _, n := range []int{6, 9, 12, 15} {
		if len(code) >= n {
			path = append(path, code[:n])
		}
	}
	return path
}

// sortKey orders events newest reported first, ties broken by id.
func sortKey(e *fengqiao.Event) string { return fengqiao.SortKey(e.ReportedAt, e.ID) }

func encodeCursor(key string) string { return fengqiao.EncodeCursor(key) }

func decodeCursor(c string) (string, error) { return fengqiao.DecodeCursor(c) }

// pageSize caps a requested page size to [0, MaxPageSize].
func pageSize(first int) int { return max(0, min(first, fengqiao.MaxPageSize)) }

// pageUpperBound is the newest reporting time a page can hold: the cursor's,
// else the filter's end, else now.
func pageUpperBound(f fengqiao.EventFilter, after string) time.Time {
	if t, _, ok := fengqiao.ParseSortKey(after); ok {
		return t
	}
	if f.To != nil {
		return *f.To
	}
	return time.Now()
}

func strs[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

func nonEmpty(values ...string) []string {
	var out []string
	for _, v := range values {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// sortFacets orders counts most first, then by value.
func sortFacets(fs []fengqiao.FacetCount) {
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Count != fs[j].Count {
			return fs[i].Count > fs[j].Count
		}
		return fs[i].Value < fs[j].Value
	})
}

// lookupOne reads one event through a backend's Lookup: the event, or ENOTFOUND.
func lookupOne(ctx context.Context, idx fengqiao.Index, id string) (*fengqiao.Event, error) {
	found, err := idx.Lookup(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if e := found[id]; e != nil {
		return e, nil
	}
	return nil, fengqiao.Errorf(fengqiao.ENOTFOUND, "事件不存在：%s", id)
}

// rankOffset reads the offset of a ranked page from its decoded cursor, and
// refuses pages deeper than MaxRankedResults.
func rankOffset(after string, size int) (int, error) {
	offset := 0
	if after != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(after, "rank:"))
		if err != nil || !strings.HasPrefix(after, "rank:") || n < 0 {
			return 0, fengqiao.Errorf(fengqiao.EINVALID, "分页游标无效")
		}
		offset = n
	}
	if offset+size > fengqiao.MaxRankedResults {
		return 0, fengqiao.Errorf(fengqiao.ELIMIT, "按相关度排序最多翻到第%d条，请缩小查询范围或按时间排序", fengqiao.MaxRankedResults)
	}
	return offset, nil
}

// rankCursor is the cursor after the i-th hit of a ranked page that began at offset.
func rankCursor(offset, i int) string { return encodeCursor("rank:" + strconv.Itoa(offset+i+1)) }
