package world

import (
	"fmt"
	"time"

	"fengqiao"
)

// CityCase is a city-management enforcement case (智慧城管执法) as that platform
// serves it: camelCase JSON, RFC 3339 times, numeric status codes.
type CityCase struct {
	CaseID     string  `json:"caseId"`
	CaseType   string  `json:"caseType"` // 占道经营、违章搭建…
	Category   string  `json:"category"` // 市容环境、规划建设…
	Title      string  `json:"title"`
	Desc       string  `json:"desc"`
	Address    string  `json:"address"`
	AreaCode   string  `json:"areaCode"` // village division code
	Lng        float64 `json:"lng"`
	Lat        float64 `json:"lat"`
	ReportTime string  `json:"reportTime"`
	Status     string  `json:"status"` // 1 待处置 2 处置中 3 已结案 4 已作废
	Result     string  `json:"result,omitempty"`
	FinishTime string  `json:"finishTime,omitempty"`
	UpdateTime string  `json:"updateTime"`

	Updated   time.Time `json:"-"`
	Malformed string    `json:"-"`
}

func (g *generator) addCity(st *story) *CityCase {
	w := g.world
	lat, lon := Coordinates(st.village.Code)
	reported := st.at
	c := &CityCase{
		CaseID:   fmt.Sprintf("CG%s%05d", reported.In(CST).Format("200601"), len(w.City)),
		CaseType: st.tpl.kind, Category: st.tpl.category,
		Title: g.fill(st.tpl.title, st), Desc: g.fill(st.tpl.content, st),
		Address: st.address, AreaCode: st.village.Code, Lng: round6(lon), Lat: round6(lat),
		ReportTime: reported.In(CST).Format(time.RFC3339),
	}
	updated := reported
	switch r := g.rnd.Float64(); {
	case r < 0.8:
		done := g.after(reported, 24*time.Hour)
		c.Status, c.Result, c.FinishTime = "3", g.pick([]string{"责令整改", "教育劝导", "罚款", "暂扣物品"}), done.In(CST).Format(time.RFC3339)
		updated = done
	case r < 0.95:
		c.Status = "2"
		updated = g.after(reported, 2*time.Hour)
	default:
		c.Status = "1"
	}
	c.Updated, c.UpdateTime = updated, updated.In(CST).Format(time.RFC3339)
	if g.chance(g.cfg.MalformedRate) {
		c.Status, c.Malformed = "9", "unknown status"
	}
	w.City = append(w.City, c)
	g.remember(st, fengqiao.SourceCityMgmt, c.CaseID)
	return c
}
