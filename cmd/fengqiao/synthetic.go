package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"fengqiao"
)

// syntheticStream makes events shaped like a county's, fast, for measuring linking
// at sizes a simulated upstream would take too long to serve: people and firms
// drawn from county-sized pools, complaints about a few dozen things, a year's
// spread of time.
type syntheticStream struct {
	rnd      *rand.Rand
	villages []*fengqiao.OrgUnit
	n        int
	start    time.Time
}

var syntheticTitles = []string{"噪音扰民", "拖欠工资", "道路破损", "物业服务不到位", "违章搭建", "邻里纠纷", "排放异味", "占道经营",
	"预付卡退费", "房屋质量问题", "宅基地纠纷", "货款纠纷", "工伤赔偿", "停车纠纷", "公交班次太少", "医疗纠纷"}

func newSyntheticStream(tree *fengqiao.OrgTree) *syntheticStream {
	return &syntheticStream{rnd: rand.New(rand.NewPCG(1, 2)), villages: tree.Units(fengqiao.LevelVillage),
		start: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (s *syntheticStream) next(k int) []*fengqiao.Event {
	out := make([]*fengqiao.Event, k)
	sources := []fengqiao.Source{fengqiao.SourceHotline12345, fengqiao.SourceMediation, fengqiao.SourcePolice110, fengqiao.SourceCourt}
	for i := range out {
		s.n++
		v := s.villages[s.rnd.IntN(len(s.villages))]
		at := s.start.Add(time.Duration(s.n) * 30 * time.Second) // ~1 M events a year
		person := s.rnd.IntN(1_400_000)
		firm := s.rnd.IntN(60_000)
		e := &fengqiao.Event{
			ID: fmt.Sprintf("HOTLINE_12345:S%d", s.n), Source: sources[s.rnd.IntN(len(sources))], SourceID: fmt.Sprint(s.n),
			Title:   fmt.Sprintf("温岭市企业%05d有限公司%s", firm, syntheticTitles[s.rnd.IntN(len(syntheticTitles))]),
			OrgCode: v.Code, ReportedAt: at, UpdatedAt: at,
			Address: fmt.Sprintf("温岭市%s%s中心路%d号", v.Parent().Name, v.Name, 1+s.rnd.IntN(400)),
			Parties: []fengqiao.Party{{Role: "来电人", Person: fengqiao.NewPerson(fmt.Sprintf("居民%d", person), fmt.Sprintf("3310819%011d", person), fmt.Sprintf("199%08d", person), v.Code)}},
		}
		if s.rnd.IntN(50) == 0 {
			e.ProjectCode = fmt.Sprintf("XM331081-%03d", s.rnd.IntN(240))
		}
		out[i] = e
	}
	return out
}
