package chains_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/chains"
)

var t0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

const village = "331081100010" // 泽国镇楼下社区

func open(t *testing.T) *chains.Store {
	t.Helper()
	s, err := chains.Open(filepath.Join(t.TempDir(), "chains"), fengqiao.Wenling())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ev(src fengqiao.Source, id, title string, day int, parties ...fengqiao.Party) *fengqiao.Event {
	at := t0.Add(time.Duration(day) * 24 * time.Hour)
	return &fengqiao.Event{ID: fengqiao.EventID(src, id), Source: src, SourceID: id, Title: title,
		OrgCode: village, ReportedAt: at, UpdatedAt: at, Parties: parties}
}

func person(name, idNumber string) fengqiao.Party {
	return fengqiao.Party{Role: "申请人", Person: fengqiao.NewPerson(name, idNumber, "", village)}
}

func link(t *testing.T, s *chains.Store, events ...*fengqiao.Event) {
	t.Helper()
	if err := s.Link(context.Background(), events); err != nil {
		t.Fatal(err)
	}
}

func chainOf(t *testing.T, s *chains.Store, e *fengqiao.Event) *fengqiao.Chain {
	t.Helper()
	ch, err := s.ChainOf(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func sameChain(t *testing.T, s *chains.Store, a, b *fengqiao.Event) bool {
	t.Helper()
	ca, cb := chainOf(t, s, a), chainOf(t, s, b)
	return ca != nil && cb != nil && ca.ID == cb.ID
}

func TestLinkRules(t *testing.T) {
	t.Parallel()
	a := person("陈建国", "331081198001019012")
	cases := []struct {
		name string
		x, y *fengqiao.Event
		want bool
		why  string
	}{
		{"same project",
			func() *fengqiao.Event {
				e := ev("HOTLINE_12345", "1", "工地拖欠工资", 0)
				e.ProjectCode = "XM1"
				return e
			}(),
			func() *fengqiao.Event { e := ev("COURT", "2", "劳动争议", 90); e.ProjectCode = "XM1"; return e }(), true, "同一重点项目：XM1"},
		{"one person carries a grievance to another channel",
			ev("MEDIATION", "3", "楼下社区邻里纠纷", 0, a), ev("POLICE_110", "4", "楼下社区邻里纠纷升级", 20, a), true, "同一当事人且事由相近"},
		{"one person, same channel, the same complaint again (重复投诉)",
			ev("HOTLINE_12345", "5", "道路破损积水", 0, a), ev("HOTLINE_12345", "6", "道路破损积水", 40, a), true, "同一当事人且事由相近（身份证号"},
		{"one person, same complaint, a year apart: separate complaints",
			ev("HOTLINE_12345", "5b", "道路破损积水", 0, a), ev("HOTLINE_12345", "6b", "道路破损积水", 400, a), false, ""},
		{"one person, different grievances",
			ev("HOTLINE_12345", "7", "噪音扰民", 0, a), ev("POLICE_110", "8", "电瓶车被盗", 3, a), false, ""},
		{"one company, the same grievance within a month",
			ev("HOTLINE_12345", "9", "温岭市东海建设工程有限公司拖欠工资", 0), ev("POLICE_110", "10", "温岭市东海建设工程有限公司拖欠工资讨薪", 10), true, "同一单位且事由相近：东海建设工程有限公司"},
		{"one company, months apart",
			ev("HOTLINE_12345", "11", "温岭市南海机电有限公司拖欠工资", 0), ev("HOTLINE_12345", "12", "温岭市南海机电有限公司拖欠工资", 120), false, ""},
		{"same building",
			func() *fengqiao.Event {
				e := ev("HOTLINE_12345", "13", "房屋渗水", 0)
				e.Address = "温岭市泽国镇楼下社区锦绣花园3幢1201室"
				return e
			}(),
			func() *fengqiao.Event {
				e := ev("CITY_MGMT", "14", "违章搭建", 30)
				e.Address = "温岭市泽国镇楼下社区锦绣花园5幢"
				return e
			}(), true, "同一地址：泽国镇楼下社区锦绣花园"},
		{"a village alone is no address",
			func() *fengqiao.Event {
				e := ev("HOTLINE_12345", "15", "房屋渗水", 0)
				e.Address = "温岭市泽国镇楼下社区"
				return e
			}(),
			func() *fengqiao.Event {
				e := ev("CITY_MGMT", "16", "违章搭建", 30)
				e.Address = "温岭市泽国镇楼下社区"
				return e
			}(), false, ""},
		{"a survey and what it surveys",
			ev("HOTLINE_12345", "17", "噪音扰民", 0),
			func() *fengqiao.Event {
				e := ev("SURVEY", "18", "回访", 3)
				e.RefersTo = "HOTLINE_12345:17"
				return e
			}(), true, "回访针对该事件"},
	}
	for _, tc := range cases {
		s := open(t)
		link(t, s, tc.x, tc.y)
		if got := sameChain(t, s, tc.x, tc.y); got != tc.want {
			t.Errorf("%s: linked = %v, want %v", tc.name, got, tc.want)
			continue
		}
		if tc.want {
			links, _ := s.Links(context.Background(), []string{tc.x.ID, tc.y.ID})
			if len(links) != 1 || !strings.Contains(strings.Join(links[0].Reasons, "|"), tc.why) || links[0].Confidence <= 0 {
				t.Errorf("%s: links %+v, want one saying %q", tc.name, links, tc.why)
			}
		}
	}
}

func TestChainIDsSurviveMergesAndReingest(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	withProject := func(id, code string, day int) *fengqiao.Event {
		e := ev("HOTLINE_12345", id, "工地拖欠工资", day)
		e.ProjectCode = code
		return e
	}
	a1, a2, a3 := withProject("a1", "XA", 0), withProject("a2", "XA", 1), withProject("a3", "XA", 2)
	b1, b2 := withProject("b1", "XB", 0), withProject("b2", "XB", 1)
	link(t, s, a1, a2, a3, b1, b2)
	big, small := chainOf(t, s, a1), chainOf(t, s, b1)
	if big.ID == small.ID || len(big.EventIDs) != 3 || len(small.EventIDs) != 2 {
		t.Fatalf("before the bridge: %+v and %+v", big, small)
	}
	// An event about both projects' site joins the chains; the larger keeps its id.
	bridge := ev("MEDIATION", "x", "工地欠薪纠纷", 3)
	bridge.ProjectCode = "XA"
	bridgeB := ev("MEDIATION", "y", "工地欠薪纠纷", 3)
	bridgeB.ProjectCode = "XB"
	bridge.Address, bridgeB.Address = "温岭市泽国镇楼下社区中心路8号", "温岭市泽国镇楼下社区中心路8号"
	link(t, s, bridge, bridgeB)
	merged := chainOf(t, s, b2)
	if merged.ID != big.ID || len(merged.EventIDs) != 7 {
		t.Fatalf("after the bridge: %+v, want %s with 7 events", merged, big.ID)
	}
	if old, err := s.Chain(ctx, small.ID); err != nil || old.ID != big.ID {
		t.Fatalf("the absorbed id resolves to %+v, %v", old, err)
	}
	// Linking the same events again changes nothing.
	link(t, s, a1, a2, a3, b1, b2, bridge, bridgeB)
	if again := chainOf(t, s, a1); again.ID != big.ID || len(again.EventIDs) != 7 {
		t.Fatalf("after re-ingest: %+v", again)
	}
	list, _ := s.Chains(ctx, fengqiao.ChainFilter{}, 10)
	if len(list) != 1 {
		t.Fatalf("%d chains listed, want 1", len(list))
	}
}
