package manifest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"fengqiao"
)

// Judgement is what JudgePage found wrong with one list response: Problems fail
// connector check; Notes are printed but do not.
type Judgement struct {
	Records  []json.RawMessage
	Problems []string
	Notes    []string
}

// optionalFields may well be empty on every record of a page (nothing on it is
// resolved, has a deadline or refers to another record), so an empty one there is
// a note, not a problem.
var optionalFields = set("deadline", "resolvedAt", "refersTo", "outcome", "projectCode", "lat", "lon", "handlingLevel",
	"address", "orgCode", "content", "category", "occurredAt", "ownerName", "ownerCreditCode", "subclass", "progress")

// JudgePage reads a list response as a sync would and judges what would fail
// silently: records: finding nothing in a response that has data, a full page
// without a next-page token (token paging), a mapped field empty on every
// record, ids that repeat within the page, and ids that do not increase (sinceId
// paging).
func (c *Connector) JudgePage(body []byte) (*Judgement, error) {
	raws, err := c.Page(body)
	if err != nil {
		return nil, err
	}
	j := &Judgement{Records: raws}
	var resp any
	json.Unmarshal(body, &resp)
	if len(raws) == 0 {
		if _, ok := lookupOK(resp, c.m.Records); !ok && !emptyJSON(resp) {
			msg := fmt.Sprintf("records: %s 在响应中找不到，而响应不为空", c.m.Records)
			if paths := recordLists(resp, ""); len(paths) > 0 {
				msg += "；响应中的记录列表在：" + strings.Join(paths, "、")
			} else if m, ok := resp.(map[string]any); ok {
				msg += "；响应的顶层字段：" + strings.Join(sortedKeys(m), "、")
			}
			j.Problems = append(j.Problems, msg)
		} else if paths := recordLists(resp, ""); len(paths) > 0 {
			j.Problems = append(j.Problems, fmt.Sprintf("records: %s 没有记录，而响应中 %s 有记录", c.m.Records, strings.Join(paths, "、")))
		}
		return j, nil
	}
	if p := c.m.Pagination; p.Type == "token" && len(raws) >= p.Size {
		if reason := c.noNextToken(resp, len(raws)); reason != "" {
			j.Problems = append(j.Problems, reason)
		}
	}
	recs := make([]any, len(raws))
	for i, raw := range raws {
		json.Unmarshal(raw, &recs[i])
	}
	seen, repeated, ids := map[string]int{}, []string{}, []string{}
	for _, rec := range recs {
		id, err := c.m.compiled.id.str(rec, nil)
		if err != nil || strings.TrimSpace(id) == "" {
			continue // reported with the record
		}
		ids = append(ids, strings.TrimSpace(id))
		if seen[id]++; seen[id] == 2 {
			repeated = append(repeated, id)
		}
	}
	if len(repeated) > 0 {
		j.Problems = append(j.Problems, fmt.Sprintf("本页记录编号重复：%s（id 表达式 %s 须给每条记录唯一的编号，重复的记录会互相覆盖）",
			strings.Join(repeated, "、"), c.m.ID))
	} else if reason := c.idsOutOfOrder(ids); reason != "" && c.m.Pagination.Type == "sinceId" {
		j.Problems = append(j.Problems, reason)
	}
	section := "event"
	if c.m.Target == "project" {
		section = "project"
	}
	for _, field := range sortedKeys(c.m.compiled.fields) {
		if !emptyOnEvery(c.m.compiled.fields[field], recs) {
			continue
		}
		msg := fmt.Sprintf("映射字段 %s.%s 在本页 %d 条记录中都为空（检查字段名：表达式 %s）", section, field, len(recs), c.mapping()[field])
		if optionalFields[field] {
			j.Notes = append(j.Notes, msg)
		} else {
			j.Problems = append(j.Problems, msg)
		}
	}
	for _, a := range c.m.compiled.attributes { // optional by nature: a note
		if emptyOnEvery(a.value, recs) {
			j.Notes = append(j.Notes, fmt.Sprintf("属性 attributes.%s 在本页 %d 条记录中都为空（检查字段名：表达式 %s）", a.name, len(recs), a.src))
		}
	}
	return j, nil
}

// emptyOnEvery reports whether a mapping is empty on every record that it maps
// without an error, and there is one: false if some record has it, or if every
// record failed (reported with the records).
func emptyOnEvery(prg program, recs []any) bool {
	empty := 0
	for _, rec := range recs {
		v, err := prg.eval(rec, nil)
		if err == nil && strings.TrimSpace(text(v)) == "" {
			empty++
		} else if err == nil {
			return false
		}
	}
	return empty > 0
}

// noNextToken says why a full page of token paging has no next-page token, ""
// if it has one or the upstream says plainly that there is none.
func (c *Connector) noNextToken(resp any, n int) string {
	p := c.m.Pagination
	v, ok := lookupOK(resp, p.NextToken)
	if s, _ := v.(string); s != "" {
		return ""
	}
	if ok {
		return "" // present and empty: the upstream says this is the last page
	}
	return fmt.Sprintf("%s返回了满页（%d 条，pagination.size 为 %d），但响应中没有下一页令牌 %s：检查 pagination.nextToken 和 size，否则后面的记录永远读不到",
		c.m.Title, n, p.Size, p.NextToken)
}

// errNoNextToken is the error Sync returns for a full page without a next-page
// token: the connector is degraded (its last error says why), not caught up.
func (c *Connector) errNoNextToken(resp any, n int) error {
	if reason := c.noNextToken(resp, n); reason != "" {
		return fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s", reason)
	}
	return nil
}

func (c *Connector) mapping() map[string]string {
	if c.m.Target == "project" {
		return c.m.Project
	}
	return c.m.Event
}

// lookupOK is lookup that also says whether the path was there.
func lookupOK(v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	for _, key := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[key]; !ok {
			return nil, false
		}
	}
	return v, true
}

// emptyJSON says whether a response holds nothing: null, {}, [] or "".
func emptyJSON(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	case string:
		return x == ""
	}
	return false
}

// recordLists returns the dotted paths of the non-empty lists of objects in a
// response, as records: would name them.
func recordLists(v any, at string) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		if len(x) > 0 {
			if _, ok := x[0].(map[string]any); ok {
				out = append(out, cmp.Or(at, "（整个响应）"))
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			p := k
			if at != "" {
				p = at + "." + k
			}
			out = append(out, recordLists(x[k], p)...)
		}
	}
	sort.Strings(out)
	return out
}
