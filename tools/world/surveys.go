package world

import (
	"fmt"
	"time"

	"fengqiao"
)

// Survey is a follow-up visit result (回访/满意度) as the survey system serves it.
// It refers to the event it surveys by that system's code and number.
type Survey struct {
	HFID string `json:"hfid"` // 回访编号
	YWXT string `json:"ywxt"` // 业务系统：12345 / TJ（调解）
	YWBH string `json:"ywbh"` // 业务编号：工单编号或案件编号
	HFSJ string `json:"hfsj"` // 回访时间 2006-01-02 15:04:05
	MYD  string `json:"myd"`  // 满意度：1 满意 2 基本满意 3 不满意
	HFNR string `json:"hfnr"` // 回访内容
	HFR  string `json:"hfr"`  // 回访人
	GXSJ int64  `json:"gxsj"` // 更新时间（Unix 毫秒）

	Updated   time.Time `json:"-"`
	Malformed string    `json:"-"`
}

var surveyComments = map[string]string{
	"1": "群众对处理结果表示满意。",
	"2": "群众对处理结果基本满意，希望加快办理速度。",
	"3": "群众对处理结果不满意，认为问题未得到解决。",
}

// surveys visits about half of the settled work orders and mediation cases.
func (g *generator) surveys() error {
	w := g.world
	add := func(system, number, matter string, settled time.Time) {
		at := g.after(settled, 24*time.Hour)
		myd := g.pick([]string{"1", "1", "1", "2", "3"})
		s := &Survey{
			HFID: fmt.Sprintf("HF%s%06d", at.In(CST).Format("200601"), len(w.Surveys)),
			YWXT: system, YWBH: number, HFSJ: at.In(CST).Format(HotlineTimeLayout), MYD: myd,
			HFNR: surveyComments[myd], HFR: g.name(), GXSJ: at.UnixMilli(), Updated: at,
		}
		if g.chance(g.cfg.MalformedRate) {
			s.MYD, s.Malformed = "满意", "satisfaction as text"
		}
		w.Surveys = append(w.Surveys, s)
		w.Truth[fengqiao.EventID(fengqiao.SourceSurvey, s.HFID)] = matter
	}
	// A survey belongs to the matter of what it surveys; a record of no matter and
	// its survey make a matter of their own.
	matterOf := func(id string) string {
		if m, ok := w.Truth[id]; ok {
			return m
		}
		w.Truth[id] = "solo-" + id
		return w.Truth[id]
	}
	g.total = g.done + len(w.Hotline) + len(w.Mediation) // now known exactly
	for _, o := range w.Hotline {
		if o.BLZT == "已办结" && o.Malformed == "" && g.chance(0.5) {
			add("12345", o.GDBH, matterOf(fengqiao.EventID(fengqiao.SourceHotline12345, o.GDBH)), o.Updated)
		}
		if err := g.step(); err != nil {
			return err
		}
	}
	for _, c := range w.Mediation {
		if c.FinishTime != nil && c.Malformed == "" && g.chance(0.5) {
			add("TJ", c.CaseNo, matterOf(fengqiao.EventID(fengqiao.SourceMediation, c.CaseNo)), time.UnixMilli(*c.FinishTime))
		}
		if err := g.step(); err != nil {
			return err
		}
	}
	return nil
}
