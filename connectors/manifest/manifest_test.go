package manifest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"

	"fengqiao/connectors/manifest"
	"fengqiao/connectors/manifests"
)

var shippedVars = map[string]string{
	"CITYMGMT_URL": "http://127.0.0.1:1", "CITYMGMT_KEY": "k",
	"SURVEYS_URL": "http://127.0.0.1:2", "SURVEYS_KEY": "k", "SURVEYS_SECRET": "s",
	"PROJECTS_URL": "http://127.0.0.1:3", "PROJECTS_CLIENT_ID": "c", "PROJECTS_CLIENT_SECRET": "s",
}

func TestShippedManifestsLoad(t *testing.T) {
	t.Parallel()
	ms, err := manifest.Load(manifests.FS, shippedVars)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	if strings.Join(names, ",") != "citymgmt,projects,surveys" {
		t.Fatalf("loaded %v", names)
	}
}

const good = `name: app
title: 某应用
source: APP
baseURL: http://127.0.0.1:9
request: {path: /list}
pagination: {type: page, pageParam: p, sizeParam: s}
incremental: {param: since, field: t, format: unix}
records: data
id: r.id
event:
  kind: '"REQUEST"'
  title: r.title
  reportedAt: parseTime(r.t, "unix")
  status: '"RECEIVED"'
  updatedAt: parseTime(r.t, "unix")
`

func TestBadManifestsAreRejectedWithFileLineAndReason(t *testing.T) {
	t.Parallel()
	if _, err := manifest.Parse("good.yaml", []byte(good), nil); err != nil {
		t.Fatalf("good manifest: %v", err)
	}
	cases := []struct {
		name, from, to string
		line           int
		says           string
	}{
		{"unknown source", "source: APP", "source: FAX", 3, "source 未知"},
		{"bad expression", "title: r.title", "title: r.title +", 12, "event.title 表达式"},
		{"unknown field", "title: r.title", "titel: r.title", 12, "event 中没有字段 titel"},
		{"missing required", "  status: '\"RECEIVED\"'\n", "", 11, "缺少必填映射 status"},
		{"unknown key", "records: data", "recods: data", 8, "unknown field"},
		{"bad pagination", "type: page", "type: pages", 6, "pagination.type"},
		{"undefined variable", "baseURL: http://127.0.0.1:9", "baseURL: ${NOWHERE}", 4, "${NOWHERE} 未定义"},
		{"bad time format", "format: unix", "format: yyyy-mm-dd", 7, "incremental.format"},
		{"bad rate unit", "records: data", "records: data\nrateLimit: 5/day", 0, "单位须为 /s、/min 或 /h"},
		{"bad rate", "records: data", "records: data\nrateLimit: fast", 0, "写作 5/s"},
		{"rate not a number", "records: data", "records: data\nrateLimit: NaN/s", 0, "须为非负数"},
		{"rate without end", "records: data", "records: data\nrateLimit: Inf", 0, "须为非负数"},
		{"unknown default unit", "records: data", "records: data\ndefaultOrgCode: \"331081999\"", 9, `defaultOrgCode "331081999" 不是本县组织树中的单位`},
	}
	for _, tc := range cases {
		text := strings.Replace(good, tc.from, tc.to, 1)
		_, err := manifest.Parse("app.yaml", []byte(text), nil)
		var ps manifest.Problems
		if !errors.As(err, &ps) {
			t.Errorf("%s: err = %v, want problems", tc.name, err)
			continue
		}
		found := false
		for _, p := range ps {
			if p.File == "app.yaml" && p.Line == tc.line && strings.Contains(p.What, tc.says) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: problems %v, want one at line %d saying %q", tc.name, ps, tc.line, tc.says)
		}
	}
}

func TestRateLimitIsPerSecondOrPerUnit(t *testing.T) {
	t.Parallel()
	for written, perSecond := range map[string]float64{"10": 10, "0.5": 0.5, "5/s": 5, "120/min": 2, "1800/h": 0.5, `"3/s"`: 3} {
		m, err := manifest.Parse("app.yaml", []byte(good+"rateLimit: "+written+"\n"), nil)
		if err != nil {
			t.Errorf("rateLimit: %s: %v", written, err)
			continue
		}
		if float64(m.RateLimit) != perSecond {
			t.Errorf("rateLimit: %s = %v a second, want %v", written, float64(m.RateLimit), perSecond)
		}
	}
}

// TestResetTimeIsACursorOnlyWhereTheUpstreamTakesOne: a reset to a time reads a
// time-windowed app from then; an app paged by token or by increasing id cannot
// be asked for a time, and reads again from its first record ("").
func TestResetTimeIsACursorOnlyWhereTheUpstreamTakesOne(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, fengqiao.CST)
	for paging, want := range map[string]string{
		"{type: page, pageParam: p, sizeParam: s}":        connectors.TimeCursor{Since: from, Page: 1}.String(),
		"{type: token, tokenParam: t, nextToken: next}":   "",
		"{type: sinceId, idParam: sinceId, sizeParam: n}": "",
	} {
		text := strings.Replace(good, "pagination: {type: page, pageParam: p, sizeParam: s}", "pagination: "+paging, 1)
		if !strings.Contains(paging, "page,") {
			text = strings.Replace(text, "incremental: {param: since, field: t, format: unix}\n", "", 1)
		}
		m, err := manifest.Parse("app.yaml", []byte(text), nil)
		if err != nil {
			t.Fatalf("%s: %v", paging, err)
		}
		got, err := manifest.New(m, nil).CursorFrom(from)
		if err != nil || got != want {
			t.Errorf("%s: cursor %q (%v), want %q", paging, got, err, want)
		}
	}
}
