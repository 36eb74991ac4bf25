package gateway_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"fengqiao"
	"fengqiao/resolvers"
)

// timeFields selects every field of typ whose type is Time (or a list of it) and
// that takes no required argument.
func timeFields(s *ast.Schema, typ string) []string {
	var out []string
	for _, f := range s.Types[typ].Fields {
		if f.Type.Name() == "Time" && !strings.HasPrefix(f.Name, "__") {
			out = append(out, f.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Every Time the API returns is China time (+08:00): the times of an event, of a
// chain and its timeline, of an order and its steps, of an audit entry — stored in
// UTC or in +08:00 alike.
func TestEveryTimeIsChinaTime(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	s := b.schema
	sel := func(typ string) string { return strings.Join(timeFields(s, typ), " ") }
	for _, typ := range []string{"Event", "Chain", "Order", "AuditEntry"} {
		if len(timeFields(s, typ)) == 0 {
			t.Fatalf("%s has no Time field", typ)
		}
	}
	queries := []struct {
		role  fengqiao.Role
		query string
	}{
		{fengqiao.RoleCommander, `{ event(id: "MEDIATION:A") { ` + sel("Event") + ` } events(first: 5) { edges { node { ` + sel("Event") + ` } } } }`},
		{fengqiao.RoleCommander, `{ chain(id: "CH-A") { ` + sel("Chain") + ` timeline { ` + sel("Event") + ` } } }`},
		{fengqiao.RoleCommander, fmt.Sprintf(`{ order(id: %q) { %s steps { %s } } }`, fixtureOrder, sel("Order"), sel("OrderStep"))},
		{fengqiao.RoleAuditor, `{ auditLog(first: 5) { edges { node { ` + sel("AuditEntry") + ` } } } }`},
	}
	seen := 0
	for _, q := range queries {
		if strings.Contains(q.query, "steps {  }") {
			q.query = strings.Replace(q.query, " steps {  }", "", 1)
		}
		r := b.query(t, q.role, county, q.query)
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %+v", q.query, r.Errors)
		}
		var data any
		json.Unmarshal(r.Data, &data)
		walkTimes(data, "", func(path, v string) {
			seen++
			at, err := time.Parse(time.RFC3339Nano, v)
			if err != nil || !strings.HasSuffix(v, "+08:00") {
				t.Errorf("%s = %q, want RFC 3339 in +08:00", path, v)
			}
			if _, off := at.Zone(); off != 8*3600 {
				t.Errorf("%s = %q: offset %d", path, v, off)
			}
		})
	}
	if seen < 20 {
		t.Errorf("only %d times seen", seen)
	}
}

// walkTimes calls fn with every string that looks like a time (YYYY-MM-DDThh…).
func walkTimes(v any, path string, fn func(path, v string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			walkTimes(c, path+"."+k, fn)
		}
	case []any:
		for i, c := range v {
			walkTimes(c, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case string:
		if len(v) > 11 && v[4] == '-' && v[7] == '-' && v[10] == 'T' {
			fn(path, v)
		}
	}
}

// A Time argument is RFC 3339 with any offset, or a date-time or a date without
// one, read as China time; anything else is an invalid error in Chinese.
func TestTimeArgumentsAreReadAsChinaTimeWithoutAnOffset(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2026-05-01T00:00:00Z":      "2026-05-01T08:00:00+08:00",
		"2026-05-01T08:00:00+08:00": "2026-05-01T08:00:00+08:00",
		"2026-05-01 08:00:00":       "2026-05-01T08:00:00+08:00",
		"2026-05-01T08:00:00":       "2026-05-01T08:00:00+08:00",
		"2026-05-01":                "2026-05-01T00:00:00+08:00",
	} {
		at, err := resolvers.UnmarshalTime(in)
		if err != nil || !at.Equal(mustTime(t, want)) {
			t.Errorf("%q = %v %v, want %s", in, at, err, want)
		}
	}
	for _, in := range []any{"yesterday", "2026-13-01", 12, true} {
		if _, err := resolvers.UnmarshalTime(in); fengqiao.ErrorCode(err) != fengqiao.EINVALID || !strings.Contains(fengqiao.ErrorMessage(err), "时间格式有误") {
			t.Errorf("%v: %v", in, err)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}
