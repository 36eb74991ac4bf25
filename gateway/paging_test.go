package gateway_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"fengqiao"
)

// Page sizes and cursors at the ends of Int and beyond: each is refused with a
// clear Chinese message naming the number asked for, or answers a page (a size
// below zero where it is clamped); none panics, none wraps around.
func TestHugePageSizesAndCursorsAreRefusedOrClamped(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	cockpit := `cockpit(from: "2025-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z")`
	for _, tc := range []struct {
		role    fengqiao.Role
		query   string
		vars    map[string]any
		status  int
		code    string // "" for a page without errors
		message string // a part of the message
	}{
		{fengqiao.RoleCommander, `{ events(first: 2147483647) { totalCount } }`, nil, 400, "limit", "查询要求2147483647条"},
		{fengqiao.RoleCommander, `{ events(first: 2147483648) { totalCount } }`, nil, 400, "limit", "查询要求2147483648条"},
		{fengqiao.RoleCommander, `{ events(first: 99999999999999999999) { totalCount } }`, nil, 400, "invalid", "查询不符合接口定义"},
		{fengqiao.RoleCommander, `query($n: Int) { events(first: $n) { totalCount } }`, map[string]any{"n": json.Number("9223372036854775807")}, 400, "limit", "查询要求9223372036854775807条"},
		{fengqiao.RoleCommander, `query($n: Int) { events(first: $n) { totalCount } }`, map[string]any{"n": json.Number("18446744073709551616")}, 400, "invalid", "查询不符合接口定义"},
		{fengqiao.RoleCommander, `{ events(first: -2147483648) { totalCount } }`, nil, 200, "limit", "收到-2147483648"},
		{fengqiao.RoleCommander, `{ events(first: 2, after: "9223372036854775807") { totalCount } }`, nil, 200, "invalid", "分页游标无效"},
		{fengqiao.RoleCommander, `{ events(first: 2, after: "99999999999999999999999999999999") { totalCount } }`, nil, 200, "invalid", "分页游标无效"},
		{fengqiao.RoleCommander, `{ events(first: 2) { edges { node { parties { person { events(first: 2147483647) { totalCount } } } } } } }`, nil, 400, "limit", "查询要求2147483647条"},
		{fengqiao.RoleCommander, `{ chains(minSize: 2147483647, first: 100) { id } }`, nil, 200, "", ""},
		{fengqiao.RoleCommander, `{ chains(minSize: -2147483648, first: 100) { id } }`, nil, 200, "", ""},
		{fengqiao.RoleCommander, `{ chains(first: 2147483647) { id } }`, nil, 400, "limit", "查询要求2147483647条"},
		{fengqiao.RoleCommander, `{ ` + cockpit + ` { topChains(first: -2147483648) { id } topRisks(first: -2147483648) { id } } }`, nil, 200, "", ""},
		{fengqiao.RoleCommander, `{ ` + cockpit + ` { topRisks(first: 2147483647) { id } } }`, nil, 400, "limit", "查询要求2147483647条"},
		{fengqiao.RoleCommander, `{ connectors { quarantine(first: 2147483647) { reason } } }`, nil, 400, "limit", "查询要求2147483647条"},
		{fengqiao.RoleAuditor, `{ auditLog(first: 2147483647) { edges { cursor } } }`, nil, 400, "limit", "查询要求2147483647条"},
		{fengqiao.RoleAuditor, `{ auditLog(first: 100, after: "18446744073709551615") { edges { cursor } } }`, nil, 200, "", ""},
		{fengqiao.RoleAuditor, `{ auditLog(first: 100, after: "18446744073709551616") { edges { cursor } } }`, nil, 200, "invalid", "分页游标无效"},
		{fengqiao.RoleAuditor, `{ auditLog(first: 100, after: "-1") { edges { cursor } } }`, nil, 200, "invalid", "分页游标无效"},
	} {
		tok, err := b.tokens.Issue(fengqiao.Principal{ID: "u", Name: "测试", Role: tc.role, OrgCode: county}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		status, r := (&testBundle{srv: b.srv}).query(t, tok, tc.query, tc.vars)
		if status != tc.status {
			t.Errorf("%s %v: status %d, want %d: %+v", tc.query, tc.vars, status, tc.status, r.Errors)
			continue
		}
		if tc.code == "" {
			if len(r.Errors) != 0 || len(r.Data) == 0 || string(r.Data) == "null" {
				t.Errorf("%s %v: want a page, got %s %+v", tc.query, tc.vars, r.Data, r.Errors)
			}
			continue
		}
		if len(r.Errors) != 1 {
			t.Errorf("%s %v: errors %+v, want one", tc.query, tc.vars, r.Errors)
			continue
		}
		e := r.Errors[0]
		if e.Extensions["code"] != tc.code || !strings.Contains(e.Message, tc.message) || !hasChinese.MatchString(e.Message) {
			t.Errorf("%s %v: %q %v, want code %s and %q", tc.query, tc.vars, e.Message, e.Extensions, tc.code, tc.message)
		}
	}
}

// A malformed cursor is an invalid error on every connection, never a page from
// the top; a cursor of the other order is refused too; a real endCursor goes on.
func TestMalformedCursorsAreInvalidOnEveryConnection(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	rank := fengqiao.EncodeCursor("rank:1")
	newest := fengqiao.EncodeCursor(fengqiao.SortKey(time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC), "MEDIATION:A"))
	connections := map[string]string{
		"events":              `events(first: 1, after: %q) { totalCount edges { node { id } } }`,
		"events by relevance": `events(filter: {text: "纠纷"}, orderBy: RELEVANCE, first: 1, after: %q) { totalCount edges { node { id } } }`,
		"person.events":       `person(id: "` + b.personID + `") { events(first: 1, after: %q) { totalCount edges { node { id } } } }`,
		"organization.events": `organization(id: "` + b.orgID + `") { events(first: 1, after: %q) { totalCount edges { node { id } } } }`,
		"project.events":      `project(code: "` + fixtureCode + `") { events(first: 1, after: %q) { totalCount edges { node { id } } } }`,
		"place.events":        `place(address: "泽国镇楼下社区锦绣花园3幢") { events(first: 1, after: %q) { totalCount edges { node { id } } } }`,
		"auditLog":            `auditLog(first: 1, after: %q) { edges { cursor } }`,
	}
	bad := []string{"garbage", "%%%", "Z2FyYmFnZQ", "AAAA", "cmFuazp4", "cmFuazotMQ", strings.Repeat("A", 300)}
	for name, field := range connections {
		role := fengqiao.RoleCommander
		if name == "auditLog" {
			role = fengqiao.RoleAuditor
		}
		cursors := bad
		switch name {
		case "events by relevance":
			cursors = append(cursors, newest)
		case "auditLog":
			cursors = append(cursors, "0", "1e3", newest)
		default:
			cursors = append(cursors, rank)
		}
		for _, c := range cursors {
			r := b.query(t, role, county, "{ "+fmt.Sprintf(field, c)+" }")
			if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != fengqiao.EINVALID || !strings.Contains(r.Errors[0].Message, "分页游标无效") {
				t.Errorf("%s after %.20q: %s %+v, want one invalid error", name, c, r.Data, r.Errors)
			}
		}
		// The first page's endCursor reads the second page.
		first := b.query(t, role, county, "{ "+strings.Replace(fmt.Sprintf(field, ""), `, after: ""`, "", 1)+" }")
		end := regexp.MustCompile(`"(?:cursor)":"([^"]+)"`).FindStringSubmatch(string(first.Data))
		if name != "auditLog" {
			first = b.query(t, role, county, "{ "+strings.Replace(strings.Replace(fmt.Sprintf(field, ""), `, after: ""`, "", 1), "totalCount", "totalCount pageInfo { endCursor }", 1)+" }")
			end = regexp.MustCompile(`"endCursor":"([^"]+)"`).FindStringSubmatch(string(first.Data))
		}
		if end == nil {
			t.Errorf("%s: no cursor in %s %+v", name, first.Data, first.Errors)
			continue
		}
		if next := b.query(t, role, county, "{ "+fmt.Sprintf(field, end[1])+" }"); len(next.Errors) != 0 || next.Data == nil || string(next.Data) == string(first.Data) {
			t.Errorf("%s: the second page %s %+v", name, next.Data, next.Errors)
		}
	}
}
