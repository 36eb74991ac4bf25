package manifest_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fengqiao/connectors/manifest"
)

// attributesApp is pageBoard with the app's own fields kept as typed attributes.
var attributesApp = strings.NewReplacer("name: NAME", "name: attrapp", "records: data\n", `records: data
attributes:
  - {name: replyCount, label: 回复数, type: int, value: 'get(r, "replies", null)'}
  - {name: score, label: 评分, type: float, value: 'get(r, "score", null)'}
  - {name: anonymous, label: 是否匿名, type: bool, value: 'get(r, "anon", null)'}
  - {name: repliedAt, label: 答复时间, type: time, value: 'parseTime(get(r, "replied", ""), "2006-01-02 15:04:05")'}
  - {name: channel, label: 渠道, type: string, value: 'get(r, "channel", null)'}
`).Replace(pageBoard)

// TestAttributesAreTypedOrTheRecordIsQuarantined: the app's own fields become
// typed attributes (numbers and true/false exported as text included; a missing
// one is left out); a value that is not of its declared type quarantines the
// record with the attribute, its label and what it should be.
func TestAttributesAreTypedOrTheRecordIsQuarantined(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(-time.Hour).Unix()
	app := &timeApp{recs: []map[string]any{
		{"id": "A1", "title": "路灯", "t": at, "replies": 3, "score": 4.5, "anon": true, "replied": "2026-11-02 09:30:00", "channel": "微信"},
		{"id": "A2", "title": "噪音", "t": at, "replies": "12", "score": "3", "anon": "false", "channel": 12345},
		{"id": "A3", "title": "积水", "t": at, "replies": "很多"},
		{"id": "A4", "title": "占道", "t": at, "replies": 2.5},
		{"id": "A5", "title": "垃圾", "t": at, "anon": "是"},
		{"id": "A6", "title": "停车", "t": at, "replied": 1793500000},
	}}
	srv := httptest.NewServer(app)
	defer srv.Close()
	r := openRunner(t, t.TempDir(), strings.Replace(attributesApp, "http://127.0.0.1:9", srv.URL, 1))
	syncState(t, r)

	got := map[string]string{}
	for id, e := range indexed(t, r) {
		var parts []string
		for _, a := range e.Attributes {
			parts = append(parts, fmt.Sprintf("%s:%s=%s", a.Name, a.Type, a.Value))
		}
		got[id] = strings.Join(parts, " ")
	}
	want := map[string]string{
		"A1": "replyCount:INT=3 score:FLOAT=4.5 anonymous:BOOL=true repliedAt:TIME=2026-11-02T09:30:00+08:00 channel:STRING=微信",
		"A2": "replyCount:INT=12 score:FLOAT=3 anonymous:BOOL=false channel:STRING=12345",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("indexed attributes:\n%v\nwant\n%v", got, want)
	}
	q, err := r.Quarantine("attrapp")
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, rej := range q {
		reasons[rej.SourceID] = rej.Reason
	}
	wantReasons := map[string]string{
		"A3": `attributes.replyCount（回复数）应为整数，得到 "很多"`,
		"A4": `attributes.replyCount（回复数）应为整数，得到 2.5`,
		"A5": `attributes.anonymous（是否匿名）应为真假值（true 或 false），得到 "是"`,
		"A6": `attributes.repliedAt：时间 1.7935e+09 不是文本`,
	}
	if fmt.Sprint(reasons) != fmt.Sprint(wantReasons) {
		t.Fatalf("quarantined:\n%v\nwant\n%v", reasons, wantReasons)
	}
}

func TestBadAttributeMappingsAreRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ from, to, says string }{
		{"name: replyCount,", "name: 回复数,", `attributes[0].name 须为英文标识`},
		{"name: score,", "name: replyCount,", "attributes 中 replyCount 重复"},
		{"label: 评分, ", "", "attributes.score 缺少 label"},
		{"type: float", "type: number", `attributes.score.type 须为 string、int、float、bool 或 time，现为 "number"`},
		{`value: 'get(r, "score", null)'`, `value: 'get(r, "score", null'`, "attributes.score 表达式"},
	} {
		_, err := manifest.Parse("app.yaml", []byte(strings.Replace(attributesApp, tc.from, tc.to, 1)), nil)
		var ps manifest.Problems
		if !errors.As(err, &ps) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s → %s: %v, want a problem saying %q", tc.from, tc.to, err, tc.says)
		}
	}
	project := strings.Replace(attributesApp, "records: data\n", "records: data\ntarget: project\nproject:\n  code: r.id\n  name: r.title\n  updatedAt: parseTime(r.t, \"unix\")\n", 1)
	if _, err := manifest.Parse("app.yaml", []byte(project), nil); err == nil || !strings.Contains(err.Error(), "attributes 只用于事件") {
		t.Errorf("attributes on a project manifest: %v", err)
	}
}

// TestCheckNotesAnAttributeEmptyOnEveryRecord: connector check notes an attribute
// that no record of the page has (a misspelt field), without failing.
func TestCheckNotesAnAttributeEmptyOnEveryRecord(t *testing.T) {
	t.Parallel()
	m, err := manifest.Parse("app.yaml", []byte(attributesApp), nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := manifest.New(m, nil).JudgePage([]byte(`{"data": [{"id": "A1", "title": "路灯", "t": 1793500000, "replies": 2, "score": 1, "anon": true, "replied": "2026-11-02 09:30:00"},
		{"id": "A2", "title": "噪音", "t": 1793500001, "replies": 0, "score": 2, "anon": false, "replied": ""}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `属性 attributes.channel 在本页 2 条记录中都为空（检查字段名：表达式 get(r, "channel", null)）`
	if len(j.Problems) != 0 || len(j.Notes) != 1 || j.Notes[0] != want {
		t.Fatalf("problems %q, notes %q; want only the note %q", j.Problems, j.Notes, want)
	}
}
