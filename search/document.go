package search

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"fengqiao"
)

// Field names of an indexed event document, shared by every backend.
const (
	fieldSource     = "source"
	fieldKind       = "kind"
	fieldStatus     = "status"
	fieldCategory   = "category"
	fieldOrgPath    = "orgPath"
	fieldPartyIDs   = "partyIds"
	fieldProject    = "projectCode"
	fieldRefersTo   = "refersTo"
	fieldSortKey    = "sortKey"
	fieldTitle      = "title"
	fieldContent    = "content"
	fieldReportedAt = "reportedAt"
	fieldRaw        = "raw"
)

// newDocument flattens an event into the document every backend indexes. The org
// path holds every ancestor's code, so a subtree filter is one term query.
func newDocument(e *fengqiao.Event) (map[string]any, error) {
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var partyIDs []string
	for _, p := range e.Parties {
		partyIDs = append(partyIDs, p.PartyID())
	}
	return map[string]any{
		fieldSource:     string(e.Source),
		fieldKind:       string(e.Kind),
		fieldStatus:     string(e.Status),
		fieldCategory:   e.Category,
		fieldOrgPath:    orgPath(e.OrgCode),
		fieldPartyIDs:   partyIDs,
		fieldProject:    e.ProjectCode,
		fieldRefersTo:   e.RefersTo,
		fieldSortKey:    sortKey(e),
		fieldTitle:      e.Title,
		fieldContent:    e.Content,
		fieldReportedAt: e.ReportedAt.UTC(),
		fieldRaw:        string(raw),
	}, nil
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
func sortKey(e *fengqiao.Event) string {
	return e.ReportedAt.UTC().Format(sortKeyTimeLayout) + "|" + e.ID
}

const sortKeyTimeLayout = "20060102T150405.000000000"

func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", fengqiao.Errorf(fengqiao.EINVALID, "分页游标无效：%q", c)
	}
	return string(b), nil
}

// pageSize caps a requested page size to [0, MaxPageSize].
func pageSize(first int) int { return max(0, min(first, fengqiao.MaxPageSize)) }

// pageUpperBound is the newest reporting time a page can hold: the cursor's,
// else the filter's end, else now.
func pageUpperBound(f fengqiao.EventFilter, after string) time.Time {
	if at, _, ok := strings.Cut(after, "|"); ok {
		if t, err := time.Parse(sortKeyTimeLayout, at); err == nil {
			return t
		}
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
