package risk_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/risk"
)

var now = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func engine(t *testing.T) *risk.Engine {
	t.Helper()
	e, err := risk.New(risk.DefaultTaxonomy(), "")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestTaxonomyMapsEveryUpstreamsCategories(t *testing.T) {
	t.Parallel()
	tax := risk.DefaultTaxonomy()
	for _, tc := range []struct {
		source      fengqiao.Source
		category    string
		sub, parent string
		base        fengqiao.RiskLevel
	}{
		{fengqiao.SourceHotline12345, "劳动和社会保障", "拖欠工资", "劳资纠纷", fengqiao.RiskHigh},
		{fengqiao.SourceCourt, "相邻关系纠纷", "相邻关系", "邻里纠纷", fengqiao.RiskLow},
		{fengqiao.SourceAlert, "烟感告警", "火灾隐患", "治安安全", fengqiao.RiskHigh},
		{fengqiao.SourceMediation, "宅基地", "宅基地", "房屋和宅基地", fengqiao.RiskMedium},
		{fengqiao.SourceHotline12345, "没有的类别", "", "", ""},
	} {
		sub, parent, base := tax.Classify(tc.source, tc.category)
		if sub != tc.sub || parent != tc.parent || base != tc.base {
			t.Errorf("%s %s → %s/%s/%s, want %s/%s/%s", tc.source, tc.category, parent, sub, base, tc.parent, tc.sub, tc.base)
		}
	}
	if n := len(tax.Tags["people"]) + len(tax.Tags["events"]) + len(tax.Tags["projects"]); n != 28 {
		t.Errorf("%d tags, want the 28 of the seed", n)
	}
	if _, err := risk.ParseTaxonomy([]byte("version: x\ncategories: []\ncodeTables: {COURT: {某案由: 不存在}}\n")); err == nil {
		t.Error("a code table pointing nowhere was accepted")
	}
}

func event(src fengqiao.Source, category, title string) *fengqiao.Event {
	return &fengqiao.Event{ID: string(src) + ":1", Source: src, Category: category, Title: title, Status: fengqiao.StatusInProgress, ReportedAt: now.Add(-48 * time.Hour)}
}

func TestEventRisk(t *testing.T) {
	t.Parallel()
	e := engine(t)
	overdue := event(fengqiao.SourceHotline12345, "城乡建设", "道路破损")
	d := now.Add(-72 * time.Hour)
	overdue.Deadline = &d
	project := event(fengqiao.SourceHotline12345, "交通运输", "公交班次太少")
	project.ProjectCode = "XM1"
	for _, tc := range []struct {
		name   string
		ev     *fengqiao.Event
		level  fengqiao.RiskLevel
		reason string
	}{
		{"large wage arrears", event(fengqiao.SourceMediation, "劳资纠纷", "拖欠工资80万元"), fengqiao.RiskHigh, "欠薪金额约80万元"},
		{"base risk of the category", event(fengqiao.SourceCourt, "相邻关系纠纷", "相邻关系纠纷"), fengqiao.RiskLow, "类别「相邻关系」基础风险"},
		{"key person", event(fengqiao.SourceAlert, "重点人员预警", "重点人员预警：某地"), fengqiao.RiskHigh, "涉及重点人员"},
		{"overdue", overdue, fengqiao.RiskMedium, "已超过办理期限3天未办结"},
		{"an open key project", project, fengqiao.RiskMedium, "涉及重点项目XM1，尚未化解"},
	} {
		r := e.AssessEvent(tc.ev, nil, now)
		if r.Level != tc.level || !strings.Contains(strings.Join(r.Reasons, "|"), tc.reason) {
			t.Errorf("%s: %+v, want %s saying %q", tc.name, r, tc.level, tc.reason)
		}
	}
}

func TestChainRisk(t *testing.T) {
	t.Parallel()
	e := engine(t)
	calm := e.AssessChain(fengqiao.ChainFacts{Size: 2, Sources: []fengqiao.Source{fengqiao.SourceHotline12345}, Complainants: 1, MaxReportsByOne: 1}, nil, now)
	if calm.Level != fengqiao.RiskLow || len(calm.Reasons) != 0 {
		t.Errorf("calm chain: %+v", calm)
	}
	r := e.AssessChain(fengqiao.ChainFacts{Size: 30, Complainants: 12, MaxReportsByOne: 4,
		Sources: []fengqiao.Source{fengqiao.SourceHotline12345, fengqiao.SourcePolice110, fengqiao.SourceCourt}}, nil, now)
	all := strings.Join(r.Reasons, "|")
	for _, want := range []string{"涉及12名反映人，疑似群体性纠纷", "同一人反复反映4次", "矛盾跨渠道升级至诉讼：12345热线 → 110警情 → 法院立案"} {
		if !strings.Contains(all, want) {
			t.Errorf("chain risk %+v lacks %q", r, want)
		}
	}
	if r.Level != fengqiao.RiskHigh {
		t.Errorf("chain risk level %s, want HIGH", r.Level)
	}
	// An event in such a chain carries the chain's risk too.
	ev := e.AssessEvent(event(fengqiao.SourceHotline12345, "城乡建设", "噪音"), &fengqiao.ChainFacts{Complainants: 6}, now)
	if ev.Level != fengqiao.RiskHigh {
		t.Errorf("event of a collective chain: %+v", ev)
	}
}

func TestRulesReloadAndABrokenFileIsRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	write := func(text string, at time.Time) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, at, at)
	}
	write("version: v1\nrules:\n  - {name: noisy, on: event, when: 'event.title.contains(\"噪音\")', level: HIGH, reason: '\"噪音投诉\"'}\n", now)
	e, err := risk.New(risk.DefaultTaxonomy(), path)
	if err != nil {
		t.Fatal(err)
	}
	noise := event(fengqiao.SourceHotline12345, "城乡建设", "夜间噪音")
	if r := e.AssessEvent(noise, nil, now); r.Level != fengqiao.RiskHigh {
		t.Fatalf("v1: %+v", r)
	}
	// A broken file is refused with its reason; the rules in force stay.
	write("version: v2\nrules:\n  - {name: broken, on: event, when: 'event.title.contains(', level: HIGH, reason: '\"x\"'}\n", now.Add(time.Minute))
	if err := e.Reload(); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("broken file: %v", err)
	}
	st := e.Status()
	if st.Version != "v1" || !strings.Contains(st.LastError, "表达式") {
		t.Fatalf("status after a broken file: %+v", st)
	}
	if r := e.AssessEvent(noise, nil, now); r.Level != fengqiao.RiskHigh {
		t.Fatalf("old rules lost: %+v", r)
	}
	// A good file replaces them without a restart.
	write("version: v3\nrules:\n  - {name: calm, on: event, when: 'false', level: HIGH, reason: '\"x\"'}\n", now.Add(2*time.Minute))
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	if st := e.Status(); st.Version != "v3" || st.LastError != "" {
		t.Fatalf("status after a good file: %+v", st)
	}
	if r := e.AssessEvent(noise, nil, now); r.Level != fengqiao.RiskLow {
		t.Fatalf("v3: %+v", r)
	}
	for _, bad := range []string{
		"version: x\nrules:\n  - {name: a, on: person, when: 'true', level: HIGH, reason: '\"x\"'}\n",
		"version: x\nrules:\n  - {name: a, on: event, when: 'true', level: SEVERE, reason: '\"x\"'}\n",
		"version: x\nrules:\n  - {name: a, on: event, when: '1 + 1', level: HIGH, reason: '\"x\"'}\n",
	} {
		write(bad, now.Add(time.Hour))
		if _, err := risk.New(risk.DefaultTaxonomy(), path); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
