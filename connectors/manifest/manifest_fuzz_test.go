package manifest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/connectorstest"
	"fengqiao/connectors/manifest"
	"fengqiao/connectors/manifests"
)

var (
	hasChinese = regexp.MustCompile(`\p{Han}`)
	lineBreak  = regexp.MustCompile(`\r\n|\r|\n`) // as YAML counts lines
	discard    = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// within runs do, failing t if it has not returned after limit: a hang is a
// failure the fuzzer saves, not a run that never ends. The limit is a minute,
// far beyond any input's time on the slowest machine (under -race), so that it
// catches hangs only, never slowness.
func within(t *testing.T, limit time.Duration, what string, do func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		do()
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s did not return within %v", what, limit)
	}
}

// FuzzManifest parses any text as a manifest file: it never panics or hangs, and
// either gives a manifest the engine can run or refuses it with problems, each in
// Chinese at a line of the file; a directory of two copies of it loads only if it
// parses, and then is refused for the repeated name.
func FuzzManifest(f *testing.F) {
	for _, name := range []string{"citymgmt.yaml", "projects.yaml", "surveys.yaml"} {
		text, err := manifests.FS.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(text)
	}
	if text, err := manifests.Examples.ReadFile("examples/messageboard.yaml"); err == nil {
		f.Add(text)
	} else {
		f.Fatal(err)
	}
	for _, seed := range []string{
		good,
		good + "parties:\n  - each: r.people\n    when: p.role != \"\"\n    role: p.role\n    person: {name: p.name, phone: get(p, \"tel\", \"\")}\n",
		good + "detail: {path: \"/items/{id}\", record: data}\nrateLimit: 2.5\nupstream: {timeout: 3s}\n",
		strings.Replace(good, "title: r.title", "title: r.title +", 1),
		strings.Replace(good, "source: APP", "source: ${NOWHERE}", 1),
		strings.Replace(good, "records: data", "records: data\nrecords: again", 1),
		"name: a\ntitle: &t [x, y]\nsource: *t\n",
		"a: &a [1, 1, 1, 1]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c]\n",
		"event: {kind: '\"REQUEST\"', title: '" + strings.Repeat("(", 300) + "'}\n",
		"--- \n...\n---\nname: x\n", "{", "- - -", "\t", "",
		withActions,
		withLookup(withActions),
		strings.Replace(withActions, "path: /items/{d.sourceId}/tasks", "path: /items/{d.sourceId/{tasks}}", 1),
		strings.Replace(withActions, "success: status == 200 && body.ok", "success: '{\"a\": d}'", 1),
		good + "actions:\n  dispatch:\n  supervise: {path: /x, success: \"true\", ref: d.key, body: {a: '[d.deadline, 1.5, {\"k\": null}]'}}\n",
		good + "actions: []\n",
	} {
		f.Add([]byte(seed))
	}
	vars := map[string]string{"CITYMGMT_URL": "http://127.0.0.1:1", "CITYMGMT_KEY": "k", "SURVEYS_URL": "http://127.0.0.1:2",
		"SURVEYS_KEY": "k", "SURVEYS_SECRET": "s", "PROJECTS_URL": "http://127.0.0.1:3", "PROJECTS_CLIENT_ID": "c", "PROJECTS_CLIENT_SECRET": "s"}
	f.Fuzz(func(t *testing.T, text []byte) {
		var m *manifest.Manifest
		var err error
		within(t, time.Minute, "Parse", func() { m, err = manifest.Parse("fuzz.yaml", text, vars) })
		var ps manifest.Problems
		switch {
		case err == nil && m == nil:
			t.Fatal("no manifest and no problem")
		case err != nil && (m != nil || !errors.As(err, &ps) || len(ps) == 0):
			t.Fatalf("manifest %v with error %v", m != nil, err)
		}
		lines := len(lineBreak.Split(string(text), -1))
		for _, p := range ps {
			if p.File != "fuzz.yaml" || p.Line < 0 || p.Line > lines || !hasChinese.MatchString(p.What) {
				t.Fatalf("problem %q at %s:%d of a file of %d lines", p.What, p.File, p.Line, lines)
			}
		}
		if m != nil {
			if m.Name == "" || !m.Source.Valid() || m.Pagination.Size <= 0 || m.Target != "event" && m.Target != "project" {
				t.Fatalf("manifest accepted as %+v", m)
			}
			c := manifest.New(m, discard)
			within(t, time.Minute, "Map", func() { c.Map([]byte(`{"id":"1","title":"路灯不亮","t":1775000000}`)) })
			// The write side renders a request and judges answers without sending.
			for _, name := range m.ActionNames() {
				within(t, time.Minute, "actions", func() {
					d := sampleDispatch("K", "1")
					if _, err := c.PreviewAction(name, d); err != nil {
						connectorstest.CheckReason(t, "action "+name, err)
					}
					c.PreviewLookup(name, d)
					for _, body := range []string{`{"ok":true,"id":"T1","list":[{"id":"T1"}]}`, `not json`, ``} {
						resp := &connectors.Response{Status: 200, Header: http.Header{"X-Id": {"1"}}, Body: []byte(body)}
						if v, err := c.JudgeAction(name, d, resp); err == nil && !v.Accepted && v.Reason == "" {
							t.Fatalf("refused without a reason: %+v", v)
						}
						c.JudgeLookup(name, d, resp)
					}
				})
			}
		}

		_, err = manifest.Load(fstest.MapFS{"a.yaml": {Data: text}, "b.yaml": {Data: text}}, vars)
		if m == nil && !errors.As(err, &ps) {
			t.Fatalf("two broken files loaded: %v", err)
		}
		if m != nil && (!errors.As(err, &ps) || len(ps) != 1 || !strings.Contains(ps[0].What, "重复")) {
			t.Fatalf("two copies of a manifest loaded: %v", err)
		}
	})
}

// mappingSlots are the expressions of a board manifest FuzzMapping replaces one of.
var mappingSlots = []struct{ key, expr string }{
	{"id", `r.id`},
	{"kind", `"REQUEST"`},
	{"title", `r.title`},
	{"content", `get(r, "body", "")`},
	{"occurredAt", `parseTime(get(r, "happened", ""), "2006-01-02 15:04")`},
	{"reportedAt", `parseTime(r.t, "unix")`},
	{"status", `code("status", r.state)`},
	{"handlingLevel", `"VILLAGE"`},
	{"orgCode", `r.area`},
	{"address", `get(r, "where", "")`},
	{"lat", `r.lat`},
	{"lon", `r.lng`},
	{"deadline", `parseTime(get(r, "due", ""), "unixms")`},
	{"resolvedAt", `parseTime(get(r, "done", ""), "rfc3339")`},
	{"updatedAt", `parseTime(r.t, "unix")`},
	{"each", `r.people`},
	{"when", `p.role != ""`},
	{"role", `p.role`},
	{"name", `p.name`},
	{"account", `get(p, "uid", "")`},
}

// boardManifest is a message board's manifest with the expression of slot i replaced.
func boardManifest(i int, expr string) []byte {
	exprs := map[string]string{}
	for j, s := range mappingSlots {
		e := s.expr
		if j == i {
			e = expr
		}
		q, _ := json.Marshal(e) // a JSON string is a YAML double-quoted scalar
		exprs[s.key] = string(q)
	}
	text := fmt.Sprintf(`name: board
title: 某镇民情留言板
source: APP
baseURL: http://127.0.0.1:9
request: {path: /api/messages}
pagination: {type: page, pageParam: p, sizeParam: n}
incremental: {param: since, field: t, format: unix}
records: data.list
id: %s
event:
`, exprs["id"])
	for _, f := range []string{"kind", "title", "content", "occurredAt", "reportedAt", "status", "handlingLevel", "orgCode",
		"address", "lat", "lon", "deadline", "resolvedAt", "updatedAt"} {
		text += fmt.Sprintf("  %s: %s\n", f, exprs[f])
	}
	text += fmt.Sprintf(`parties:
  - each: %s
    when: %s
    role: %s
    person: {name: %s, account: %s}
codes:
  status: {"0": RECEIVED, "1": IN_PROGRESS, "2": RESOLVED}
`, exprs["each"], exprs["when"], exprs["role"], exprs["name"], exprs["account"])
	return []byte(text)
}

// FuzzMapping replaces one expression of a message board's manifest by any text
// and maps any record with it: neither a hostile expression nor a hostile record
// panics, runs long or builds an event out of proportion to them. An expression is refused in Chinese or compiled; a record is
// refused in Chinese or mapped into an event of the manifest's source, with the id
// it was read with, that the runner takes in or quarantines with a Chinese reason.
func FuzzMapping(f *testing.F) {
	record := `{"id":"LY20260402-0087","title":"村口垃圾清运不及时","body":"已经三天没人来收了","happened":"2026-04-01 18:30",` +
		`"t":1775107800,"state":"1","area":"331081100208","where":"泽国镇前岸村村口","lat":28.41,"lng":121.37,"due":1775712600000,` +
		`"people":[{"role":"留言人","name":"","uid":"U88231"},{"role":"","name":"旁观者"}]}`
	nested := func(depth int) string { // builds 10^depth elements
		e := "x0"
		for i := range depth {
			e = fmt.Sprintf("[0,1,2,3,4,5,6,7,8,9].map(x%d, %s)", i, e)
		}
		return e
	}
	for i, s := range mappingSlots {
		f.Add(uint8(i), s.expr, []byte(record))
	}
	for _, seed := range []struct {
		slot         int
		expr, record string
	}{
		{2, `r.title + "（" + r.body + "）"`, record},
		{2, `r.title.substring(0, 5) + r.body.upperAscii()`, record},
		{12, `parseTime("9999-12-31T23:59:59-23:59", "rfc3339")`, record},
		{2, nested(3), record},
		{15, `r.people.filter(p, p.name == "").map(p, {"name": p.uid})`, record},
		{0, `r.id + "\u0000"`, record},
		{0, `" "`, record},
		{6, `code("nowhere", r.state)`, record},
		{2, `r.title +`, record},
		{2, strings.Repeat("(", 400) + "1" + strings.Repeat(")", 400), record},
		{2, `r.title`, `{"id":["x"],"title":{"a":1}}`},
		{2, `r.title`, `{"id":"x"`},
	} {
		f.Add(uint8(seed.slot), seed.expr, []byte(seed.record))
	}
	// The connectors of the manifests seen last: most inputs change the record only.
	connectors := map[string]*manifest.Connector{}
	f.Fuzz(func(t *testing.T, slot uint8, expr string, raw []byte) {
		text := boardManifest(int(slot)%len(mappingSlots), expr)
		c := connectors[string(text)]
		if c == nil {
			var m *manifest.Manifest
			var err error
			within(t, time.Minute, "Parse", func() { m, err = manifest.Parse("board.yaml", text, nil) })
			if err != nil {
				connectorstest.CheckReason(t, "expression "+expr, err)
				return
			}
			if len(connectors) >= 100 {
				clear(connectors)
			}
			c = manifest.New(m, discard)
			connectors[string(text)] = c
		}
		var e *fengqiao.Event
		var err error
		var p *fengqiao.Project
		var id string
		within(t, time.Minute, "Map", func() { e, p, id, err = c.Map(raw) })
		if p != nil {
			t.Fatalf("a board manifest mapped a project: %+v", p)
		}
		if err != nil {
			connectorstest.CheckReason(t, "record", err)
			return
		}
		if strings.TrimSpace(id) == "" || e.SourceID != id {
			t.Fatalf("record id %q mapped into event %q", id, e.ID)
		}
		// Each operation adds at most a record's length: mapping is linear in it.
		if out, _ := json.Marshal(e); len(out) > 1<<20+len(text)*(len(raw)+1) {
			t.Fatalf("a record of %d bytes mapped into an event of %d", len(raw), len(out))
		}
		connectorstest.CheckEvent(t, fengqiao.SourceApp, e)
	})
}
