package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"fengqiao"
)

// entityKeys are the hub's federation entities and their key fields
// (docs/federation.md).
var entityKeys = map[string]string{
	"Event": "id", "Person": "id", "Organization": "id", "Project": "code", "OrgUnit": "code", "Chain": "id",
}

// entityKey returns the key value of the fixture's instance of an entity type.
func (b *accessBundle) entityKey(typ string) string {
	return map[string]string{"Event": "MEDIATION:A", "Person": b.personID, "Organization": b.orgID,
		"Project": fixtureCode, "OrgUnit": villageA + "001", "Chain": chainA.ID}[typ]
}

// entities asks for the entities of representations (type, key value) with the
// selection sel on each.
func entities(reps [][2]string, sel string) string {
	var list, frags []string
	seen := map[string]bool{}
	for _, r := range reps {
		list = append(list, fmt.Sprintf(`{__typename: %q, %s: %q}`, r[0], entityKeys[r[0]], r[1]))
		if !seen[r[0]] {
			seen[r[0]] = true
			frags = append(frags, fmt.Sprintf("... on %s { %s }", r[0], sel))
		}
	}
	return fmt.Sprintf("{ _entities(representations: [%s]) { %s } }", strings.Join(list, ", "), strings.Join(frags, " "))
}

// The subgraph's schema, which a city's composition reads, declares every entity
// with its key and links Federation v2; like every query it needs a token.
func TestServiceSDLDeclaresTheEntitiesAndTheirKeys(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	r := b.query(t, fengqiao.RoleAnalyst, daxi, `{ _service { sdl } }`)
	var data struct {
		Service struct{ SDL string } `json:"_service"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil || len(r.Errors) > 0 {
		t.Fatalf("_service: %v %s", r.Errors, r.Data)
	}
	doc, err := parser.ParseSchema(&ast.Source{Name: "sdl", Input: data.Service.SDL})
	if err != nil {
		t.Fatalf("the SDL does not parse: %v", err)
	}
	keys := map[string]string{}
	for _, def := range append(doc.Definitions, doc.Extensions...) {
		for _, d := range def.Directives.ForNames("key") {
			keys[def.Name] += d.Arguments.ForName("fields").Value.Raw
		}
	}
	for typ, k := range entityKeys {
		if keys[typ] != k {
			t.Errorf("%s: key %q, want %q", typ, keys[typ], k)
		}
	}
	if len(keys) != len(entityKeys) {
		t.Errorf("keys on %v, want exactly the entities %v", keys, entityKeys)
	}
	linked := false
	for _, ext := range doc.SchemaExtension {
		for _, d := range ext.Directives.ForNames("link") {
			linked = linked || strings.HasPrefix(d.Arguments.ForName("url").Value.Raw, "https://specs.apollo.dev/federation/v2.")
		}
	}
	if !linked {
		t.Error("the SDL does not link Federation v2 (extend schema @link)")
	}
	for _, q := range []string{`{ _service { sdl } }`, entities([][2]string{{"Event", "MEDIATION:A"}}, "id title")} {
		if status, r := (&testBundle{srv: b.srv}).query(t, "", q, nil); status != http.StatusUnauthorized || len(r.Errors) == 0 || strings.Contains(string(r.Data), "MEDIATION") {
			t.Errorf("%s without a token: %d %s", q, status, r.Data)
		}
	}
}

// Every field of every entity, fetched by key through _entities, answers what the
// entity's own query answers, for a commander (who sees personal data whole) and an
// analyst (who sees it masked) at every level: scoping, masking and refusals are
// the queries' own. A caller outside the fixture's branch gets null.
func TestEntitiesAreReadAsTheirQueriesRead(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	paths := reaches(b.personID, b.orgID)
	paths["Event"] = `event(id: "MEDIATION:A") { %s }` // the matrix reaches events through Party
	levels := []struct {
		org    string
		inside bool
	}{{county, true}, {zeguo, true}, {villageA, true}, {daxi, false}}
	for typ := range entityKeys {
		for _, f := range b.schema.Types[typ].Fields {
			sel := selection(b.schema, nil, typ, f)
			direct := "{ " + fmt.Sprintf(paths[typ], sel) + " }"
			federated := entities([][2]string{{typ, b.entityKey(typ)}}, sel)
			for _, role := range []fengqiao.Role{fengqiao.RoleCommander, fengqiao.RoleAnalyst} {
				for _, level := range levels {
					want, got := b.query(t, role, level.org, direct), b.query(t, role, level.org, federated)
					where := fmt.Sprintf("%s at %s, %s.%s", role, level.org, typ, f.Name)
					var wantData map[string]json.RawMessage
					var gotData struct {
						Entities []json.RawMessage `json:"_entities"`
					}
					json.Unmarshal(want.Data, &wantData)
					json.Unmarshal(got.Data, &gotData)
					if len(gotData.Entities) != 1 {
						t.Errorf("%s: %s", where, got.Data)
						continue
					}
					var wantValue json.RawMessage
					for _, v := range wantData {
						wantValue = v
					}
					if !sameJSON(wantValue, gotData.Entities[0]) {
						t.Errorf("%s: _entities %s, the query %s", where, gotData.Entities[0], wantValue)
					}
					if fmt.Sprint(errorsOf(want)) != fmt.Sprint(errorsOf(got)) {
						t.Errorf("%s: _entities refused with %v, the query with %v", where, errorsOf(got), errorsOf(want))
					}
					if level.inside == (string(gotData.Entities[0]) == "null") {
						t.Errorf("%s: inside the caller's subtree %v, entity %s", where, level.inside, gotData.Entities[0])
					}
				}
			}
		}
	}
}

// sameJSON reports whether two JSON documents hold the same value.
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	json.Unmarshal(a, &x)
	json.Unmarshal(b, &y)
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// errorsOf is a response's errors as code and message.
func errorsOf(r gqlResponse) []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, fmt.Sprint(e.Extensions["code"], " ", e.Message))
	}
	return out
}

// A town's analyst cannot fetch another town's event by key, even batched with
// one of its own; a person's ID number and phone come masked to an analyst and
// whole, audited, to a commander.
func TestEntitiesAreScopedAndMasked(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	// MEDIATION:D lies in 泽国镇's villageB, MEDIATION:E in 大溪镇.
	r := b.query(t, fengqiao.RoleAnalyst, daxi, entities([][2]string{{"Event", "MEDIATION:D"}, {"Event", "MEDIATION:E"}}, "id title"))
	if got := string(r.Data); !strings.Contains(got, `[null,{"id":"MEDIATION:E"`) || strings.Contains(got, "工程款纠纷D") {
		t.Errorf("大溪镇's analyst fetched: %s %v", got, r.Errors)
	}
	r = b.query(t, fengqiao.RoleAnalyst, zeguo, entities([][2]string{{"Event", "MEDIATION:D"}, {"Event", "MEDIATION:E"}}, "id title"))
	if got := string(r.Data); !strings.Contains(got, `"MEDIATION:D"`) || !strings.HasSuffix(got, `null]}`) {
		t.Errorf("泽国镇's analyst fetched: %s %v", got, r.Errors)
	}
	r = b.query(t, fengqiao.RoleAnalyst, daxi, entities([][2]string{{"OrgUnit", villageA}}, "name"))
	if code, msg := firstError(t, r); code != fengqiao.EFORBIDDEN || !hasChinese.MatchString(msg) || strings.Contains(string(r.Data), "name") {
		t.Errorf("大溪镇's analyst fetched 泽国镇's village: %s %s %s", code, msg, r.Data)
	}

	person := entities([][2]string{{"Person", b.personID}}, "name idNumber phone identifiers { value }")
	r = b.query(t, fengqiao.RoleAnalyst, zeguo, person)
	if got := string(r.Data); !strings.Contains(got, "陈某") || strings.Contains(got, fixturePhone) || strings.Contains(got, fixtureID) || !strings.Contains(got, fengqiao.MaskPhone(fixturePhone)) {
		t.Errorf("an analyst's person: %s %v", got, r.Errors)
	}
	before := count(b.auditEntries(t, ""), "查看个人信息", b.personID)
	r = b.query(t, fengqiao.RoleCommander, zeguo, person)
	if got := string(r.Data); !strings.Contains(got, fixturePhone) || !strings.Contains(got, fixtureID) {
		t.Errorf("a commander's person: %s %v", got, r.Errors)
	}
	if after := count(b.auditEntries(t, ""), "查看个人信息", b.personID); after != before+1 {
		t.Errorf("the commander's look at personal data through _entities: %d audit entries, want %d", after, before+1)
	}
}

// A gateway's batch is bounded like a page: each representation is charged its
// selection, so a hundred people with their events cost what a hundred-row page
// of them would, and more representations than a list may hold are refused.
func TestEntityBatchesObeyTheQueryLimits(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	reps := func(n int) [][2]string {
		out := make([][2]string, n)
		for i := range out {
			out[i] = [2]string{"Person", fmt.Sprintf("p%d", i)}
		}
		return out
	}
	heavy := "events(first: 100) { edges { node { id title } } }"
	r := b.query(t, fengqiao.RoleAnalyst, zeguo, entities(reps(100), heavy))
	if code, msg := firstError(t, r); code != fengqiao.ELIMIT || !strings.Contains(msg, "复杂度") {
		t.Errorf("a hundred people's events: %s %s", code, msg)
	}
	r = b.query(t, fengqiao.RoleAnalyst, zeguo, entities(reps(3), heavy))
	if len(r.Errors) > 0 {
		t.Errorf("three people's events: %v", r.Errors)
	}
	r = b.query(t, fengqiao.RoleAnalyst, zeguo, entities(reps(101), "name"))
	if code, _ := firstError(t, r); code != fengqiao.ELIMIT {
		t.Errorf("101 representations: %v", r.Errors)
	}
}

// A malformed representation is the caller's mistake: refused as invalid, in
// Chinese, naming what is wrong, and not logged as an error of the hub's.
func TestMalformedRepresentationsAreInvalid(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	for _, c := range []struct{ reps, want string }{
		{`{__typename: "Event"}`, "实体表示缺少键字段 id（Event）"},
		{`{__typename: "Nope", id: "MEDIATION:A"}`, "未知实体类型 Nope"},
		{`{id: "MEDIATION:A"}`, "实体表示缺少 __typename"},
		{`{__typename: "Event", id: null}`, "实体表示的键字段为空（Event）"},
		{`{__typename: "Event", id: {a: 1}}`, "实体表示的键字段 id 须为字符串（Event）"},
	} {
		r := b.query(t, fengqiao.RoleCommander, county, `{ _entities(representations: [`+c.reps+`]) { ... on Event { id } } }`)
		if code, msg := firstError(t, r); code != fengqiao.EINVALID || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %s %q, want invalid %q", c.reps, code, msg, c.want)
		}
	}
	if logs := b.logs.String(); strings.Contains(logs, "level=ERROR") {
		t.Errorf("malformed representations logged as errors:\n%s", logs)
	}
}
