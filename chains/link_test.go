package chains_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/chains"
)

// The texts of these tests are written for them.
const (
	garageTitle = "华庭小区地下车库长期积水无人处理"
	garage      = "华庭小区三号楼地下车库入口处积水已经两个多月，每逢下雨水深没过脚踝，车辆进出十分困难。" +
		"业主多次向物业反映，物业只是派人用扫帚扫一扫，始终没有找到漏水的原因。" +
		"车库里的电线就泡在水里，存在很大的安全隐患。恳请相关部门督促物业尽快排查维修，还业主一个安全的停车环境。"
	marketTitle = "东湖路菜市场门口占道经营严重"
	market      = "每天早上六点到九点，东湖路菜市场门口都有几十个摊贩把货摆到马路上，卖菜的三轮车横七竖八停着，" +
		"电动车和行人都过不去，上学的孩子只能从车流里穿过去，非常危险。城管来了就躲，走了又摆出来，" +
		"希望有关部门建立长效管理机制，把摊贩引导进市场里面经营，恢复道路通行。"
)

const county = "331081"

func msg(src fengqiao.Source, id, title, content string, day int, parties ...fengqiao.Party) *fengqiao.Event {
	e := ev(src, id, title, day, parties...)
	e.Content, e.OrgCode = content, county
	return e
}

func account(user string) fengqiao.Party {
	return fengqiao.Party{Role: "留言人", Person: fengqiao.NewPerson("", "", "", county,
		fengqiao.Identifier{Scheme: fengqiao.AccountScheme("board"), Value: user})}
}

// linkOf returns the link between two events, nil if there is none.
func linkOf(t *testing.T, s *chains.Store, a, b *fengqiao.Event) *fengqiao.Link {
	t.Helper()
	links, err := s.Links(context.Background(), []string{a.ID, b.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(links) == 0 {
		return nil
	}
	return &links[0]
}

func evidenceOf(l *fengqiao.Link, rule string) *fengqiao.LinkEvidence {
	for i := range l.Evidence {
		if l.Evidence[i].Rule == rule {
			return &l.Evidence[i]
		}
	}
	return nil
}

func TestNearDuplicatesLinkWithinTheWindow(t *testing.T) {
	t.Parallel()
	edited := strings.NewReplacer("，", ", ", "。", ". ", "三号楼", "３号楼", "两个多月", "两个多月 ").Replace(garage)
	dropped := strings.Replace(garage, "车库里的电线就泡在水里，存在很大的安全隐患。", "", 1)
	added := garage + "另外车库的照明也坏了一半，晚上进去黑漆漆的，老人小孩摔倒过好几次。"
	cases := []struct {
		name    string
		other   *fengqiao.Event
		want    bool
		minimum float64
	}{
		{"the same text again, in the same source", msg(fengqiao.SourceApp, "2", garageTitle, garage, 3), true, 1},
		{"the same text in another source", msg(fengqiao.SourceHotline12345, "3", garageTitle, garage, 5), true, 1},
		{"punctuation, spaces and width changed", msg(fengqiao.SourceApp, "4", garageTitle+"！", edited, 2), true, 0.7},
		{"a sentence dropped", msg(fengqiao.SourceApp, "5", garageTitle, dropped, 9), true, 0.7},
		{"a sentence added", msg(fengqiao.SourceApp, "6", "再次反映"+garageTitle, added, 20), true, 0.7},
		{"the same text beyond the window", msg(fengqiao.SourceApp, "7", garageTitle, garage, 400), false, 0},
		{"another text", msg(fengqiao.SourceApp, "8", marketTitle, market, 1), false, 0},
	}
	for _, tc := range cases {
		s := open(t)
		first := msg(fengqiao.SourceApp, "1", garageTitle, garage, 0)
		link(t, s, first, tc.other)
		l := linkOf(t, s, first, tc.other)
		if got := l != nil; got != tc.want {
			t.Errorf("%s: linked = %v, want %v (%+v)", tc.name, got, tc.want, l)
			continue
		}
		if !tc.want {
			continue
		}
		e := evidenceOf(l, chains.RuleNearDuplicate)
		if e == nil || e.Score < tc.minimum || e.Score > 1 || e.Confidence != 0.9 || len(e.Matched) == 0 {
			t.Errorf("%s: evidence %+v", tc.name, l.Evidence)
		}
		if !strings.Contains(strings.Join(l.Reasons, "|"), "文本近似重复（") {
			t.Errorf("%s: reasons %v", tc.name, l.Reasons)
		}
	}
}

// Short texts say too little: the same short request from two people is not one
// matter by its words alone.
func TestShortTextsAreNoNearDuplicates(t *testing.T) {
	t.Parallel()
	s := open(t)
	a := msg(fengqiao.SourceApp, "1", "咨询新生儿医保办理流程", "想了解新生儿医保需要带哪些材料。", 0, account("U1"))
	b := msg(fengqiao.SourceApp, "2", "咨询新生儿医保办理流程", "想了解新生儿医保需要带哪些材料。", 2, account("U2"))
	link(t, s, a, b)
	if l := linkOf(t, s, a, b); l != nil {
		t.Fatalf("linked: %+v", l)
	}
}

func TestOneAccountReportingAgainInOneSource(t *testing.T) {
	t.Parallel()
	first := msg(fengqiao.SourceApp, "1", "滨河路早市摊贩占道经营严重", "摊贩占道，早高峰堵得走不动。", 0, account("U7"))
	cases := []struct {
		name  string
		other *fengqiao.Event
		want  bool
	}{
		{"the same account, a similar subject", msg(fengqiao.SourceApp, "2", "滨河路早市摊贩占道经营仍未整改", "上次反映的问题至今没有改善。", 14, account("U7")), true},
		{"the same account, another subject", msg(fengqiao.SourceApp, "3", "咨询新生儿医保办理流程", "孩子刚出生，想了解怎么办。", 14, account("U7")), false},
		{"another account, a similar subject", msg(fengqiao.SourceApp, "4", "滨河路早市摊贩占道经营仍未整改", "上次反映的问题至今没有改善。", 14, account("U8")), false},
		{"the same account, a similar subject, beyond the window", msg(fengqiao.SourceApp, "5", "滨河路早市摊贩占道经营仍未整改", "还是老样子。", 300, account("U7")), false},
	}
	for _, tc := range cases {
		s := open(t)
		link(t, s, first, tc.other)
		l := linkOf(t, s, first, tc.other)
		if got := l != nil; got != tc.want {
			t.Errorf("%s: linked = %v, want %v (%+v)", tc.name, got, tc.want, l)
			continue
		}
		if tc.want {
			e := evidenceOf(l, chains.RuleSameReporter)
			if e == nil || e.Score < 0.3 || len(e.Matched) != 1 || e.Matched[0] != "board账号" ||
				!strings.Contains(l.Reasons[0], "同一当事人且事由相近（board账号，相似度") || strings.Contains(l.Reasons[0], "U7") {
				t.Errorf("%s: %+v", tc.name, l)
			}
		}
	}
}

// A phone shared by people of different names is not one reporter.
func TestAPhoneUnderTwoNamesIsTwoReporters(t *testing.T) {
	t.Parallel()
	s := open(t)
	caller := func(name string) fengqiao.Party {
		return fengqiao.Party{Role: "来电人", Person: fengqiao.NewPerson(name, "", "13905760001", village)}
	}
	a := ev("HOTLINE_12345", "1", "楼下社区道路破损积水", 0, caller("陈建国"))
	b := ev("HOTLINE_12345", "2", "楼下社区道路破损积水", 10, caller("陈小芳"))
	c := ev("HOTLINE_12345", "3", "楼下社区道路破损积水仍未修复", 20, caller("陈建国"))
	link(t, s, a, b, c)
	if sameChain(t, s, a, b) || !sameChain(t, s, a, c) {
		t.Fatalf("a–b %v, a–c %v", sameChain(t, s, a, b), sameChain(t, s, a, c))
	}
}

func TestTargetsNamedInTextLinkWithoutALocalPrefix(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		x, y *fengqiao.Event
		want string // "" for no link
	}{
		{"a company by its form",
			msg(fengqiao.SourceApp, "1", "青禾智造科技有限公司拖欠工资", "我们在青禾智造科技有限公司上班，三个月没发工资。", 0),
			msg(fengqiao.SourceHotline12345, "2", "青禾智造科技有限公司拖欠工资三个月", "老板说资金周转不开，工资一拖再拖。", 6),
			"同一单位且事由相近：青禾智造科技有限公司"},
		{"an estate by its form",
			msg(fengqiao.SourceApp, "3", "翠竹苑电梯频繁故障", "翠竹苑5栋电梯一周坏了三次，老人被困。", 0),
			msg(fengqiao.SourceApp, "4", "翠竹苑电梯频繁故障无人维修", "电梯故障没人修，物业推诿。", 10),
			"同一小区且事由相近：翠竹苑"},
		{"a school by its form",
			msg(fengqiao.SourceApp, "5", "松溪实验小学门口接送拥堵", "放学时家长车辆乱停，堵住整条路。", 0),
			msg(fengqiao.SourceCityMgmt, "6", "松溪实验小学门口接送车辆拥堵", "巡查发现放学时段车辆乱停。", 3),
			"同一学校且事由相近：松溪实验小学"},
		{"one estate, different things",
			msg(fengqiao.SourceApp, "7", "翠竹苑电梯频繁故障", "电梯一周坏了三次。", 0),
			msg(fengqiao.SourceApp, "8", "翠竹苑旁边工地夜间施工", "晚上十一点还在打桩。", 10),
			""},
		{"a generic word names no one",
			msg(fengqiao.SourceApp, "9", "该小区电梯频繁故障", "电梯一周坏了三次。", 0),
			msg(fengqiao.SourceApp, "10", "我们小区电梯频繁故障", "电梯一周坏了三次。", 5),
			""},
	}
	for _, tc := range cases {
		s := open(t)
		link(t, s, tc.x, tc.y)
		l := linkOf(t, s, tc.x, tc.y)
		switch {
		case tc.want == "" && l != nil:
			t.Errorf("%s: linked: %+v", tc.name, l)
		case tc.want != "" && (l == nil || !strings.Contains(strings.Join(l.Reasons, "|"), tc.want)):
			t.Errorf("%s: %+v, want a reason %q", tc.name, l, tc.want)
		}
	}
}

// writeRules writes a rules file, the built-in one with the replacements, dated
// at so that a reload sees it changed.
func writeRules(t *testing.T, path string, at time.Time, oldnew ...string) {
	t.Helper()
	text := strings.NewReplacer(oldnew...).Replace(string(chains.DefaultRules()))
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

func TestRulesFileReloadChangesLinking(t *testing.T) {
	t.Parallel()
	s := open(t)
	path := filepath.Join(t.TempDir(), "links.yaml")
	now := time.Now()
	writeRules(t, path, now)
	if err := s.LoadRules(path); err != nil {
		t.Fatal(err)
	}
	if st := s.RulesStatus(); st.Version != "2026.11-1" || st.File != path || st.LastError != "" || len(st.Rules) != 9 {
		t.Fatalf("status %+v", st)
	}
	a, b := msg(fengqiao.SourceApp, "1", garageTitle, garage, 0), msg(fengqiao.SourceApp, "2", garageTitle, garage, 100)
	link(t, s, a, b)
	if !sameChain(t, s, a, b) {
		t.Fatal("duplicates 100 days apart are not linked under a 365-day window")
	}

	// A 30-day window: the same pair of texts 100 days apart no longer links.
	writeRules(t, path, now.Add(time.Second), `version: "2026.11-1"`, `version: "test-2"`,
		"nearDuplicate:\n    windowDays: 365", "nearDuplicate:\n    windowDays: 30")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if st := s.RulesStatus(); st.Version != "test-2" || s.Rules().Rules[chains.RuleNearDuplicate].WindowDays != 30 {
		t.Fatalf("after reload: %+v", st)
	}
	c, d := msg(fengqiao.SourceApp, "3", garageTitle, garage, 200), msg(fengqiao.SourceApp, "4", garageTitle, garage, 300)
	link(t, s, c, d)
	if sameChain(t, s, c, d) {
		t.Fatal("linked beyond the reloaded 30-day window")
	}

	// A broken file is refused with its reason; the rules in force stay.
	for i, broken := range [][]string{
		{"confidence: 0.9", "confidence: 1.9"},
		{"sameAddress:", "sameAdress:"},
		{"minSubject: 0.3", "minSubject: [0.3"},
		{"  refersTo:\n    windowDays: 3650\n    confidence: 1\n", ""},
	} {
		writeRules(t, path, now.Add(time.Duration(2+i)*time.Second), broken...)
		err := s.Reload()
		if st := s.RulesStatus(); err == nil || st.LastError == "" || st.Version != "test-2" {
			t.Fatalf("broken file %v: err %v, status %+v", broken, err, st)
		}
	}
	e, f := msg(fengqiao.SourceApp, "5", garageTitle, garage, 200), msg(fengqiao.SourceApp, "6", garageTitle, garage, 220)
	link(t, s, e, f)
	if !sameChain(t, s, e, f) || s.Rules().Rules[chains.RuleNearDuplicate].WindowDays != 30 {
		t.Fatal("the rules in force changed with a broken file")
	}
}

func TestLoadRulesRefusesABrokenFile(t *testing.T) {
	t.Parallel()
	s := open(t)
	path := filepath.Join(t.TempDir(), "links.yaml")
	writeRules(t, path, time.Now(), "version:", "# version:")
	if err := s.LoadRules(path); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("LoadRules: %v", err)
	}
	if st := s.RulesStatus(); st.File != "" || st.Version != "2026.11-1" {
		t.Fatalf("status %+v", st)
	}
}

// What linking remembers survives a restart: the sketch of a text linked before
// finds its duplicate after.
func TestTheWindowSurvivesARestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "chains")
	s, err := chains.Open(dir, fengqiao.Wenling())
	if err != nil {
		t.Fatal(err)
	}
	a := msg(fengqiao.SourceApp, "1", garageTitle, garage, 0, account("U1"))
	link(t, s, a)
	s.Close()
	if s, err = chains.Open(dir, fengqiao.Wenling()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := msg(fengqiao.SourceHotline12345, "2", garageTitle, garage, 30)
	c := msg(fengqiao.SourceApp, "3", "华庭小区车库积水还是没人管", "车库积水问题依旧。", 40, account("U1"))
	link(t, s, b, c)
	if !sameChain(t, s, a, b) || !sameChain(t, s, a, c) {
		t.Fatalf("after a restart: a–b %v, a–c %v", sameChain(t, s, a, b), sameChain(t, s, a, c))
	}
}

// Watch puts a changed file in force and says so, and says why it refuses a
// broken one.
func TestWatchReloadsAndTellsTheLog(t *testing.T) {
	t.Parallel()
	s := open(t)
	path := filepath.Join(t.TempDir(), "links.yaml")
	now := time.Now()
	writeRules(t, path, now)
	if err := s.LoadRules(path); err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { s.Watch(stop, 5*time.Millisecond, slog.New(slog.NewTextHandler(&log, nil))); close(done) }()
	defer func() { close(stop); <-done }()
	waitFor := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(log.String(), what); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the log never said %q:\n%s", what, log.String())
			}
		}
	}
	writeRules(t, path, now.Add(time.Second), `version: "2026.11-1"`, `version: "watched"`)
	waitFor("version=watched")
	writeRules(t, path, now.Add(2*time.Second), "windowDays: 365", "windowDays: -1")
	waitFor("串联规则文件有误")
	if st := s.RulesStatus(); st.Version != "watched" || st.LastError == "" {
		t.Fatalf("status %+v", st)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// A survey finds the work order it is about even when the order has left the
// window of recent events.
func TestASurveyFindsAnOrderBeyondTheWindow(t *testing.T) {
	t.Parallel()
	s := open(t)
	order := msg(fengqiao.SourceHotline12345, "GD1", garageTitle, garage, 0)
	link(t, s, order)
	link(t, s, msg(fengqiao.SourceHotline12345, "GD2", marketTitle, market, 1000)) // moves the window on
	survey := msg(fengqiao.SourceSurvey, "HF1", "回访", "满意", 1001)
	survey.RefersTo = order.ID
	link(t, s, survey)
	if l := linkOf(t, s, order, survey); l == nil || l.Reasons[0] != "回访针对该事件" {
		t.Fatalf("link %+v", l)
	}
}
