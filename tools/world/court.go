package world

import (
	"encoding/xml"
	"fmt"
	"time"

	"fengqiao"
)

// CourtCase is a civil or commercial filing (民商事立案) as the court's exchange
// platform serves it: XML, pinyin-initial element names, dates as 2006-01-02.
type CourtCase struct {
	XMLName xml.Name     `xml:"case"`
	AH      string       `xml:"ah"`   // 案号 (2026)浙1081民初1234号
	AY      string       `xml:"ay"`   // 案由
	AJMC    string       `xml:"ajmc"` // 案件名称
	SSQQ    string       `xml:"ssqq"` // 诉讼请求
	LARQ    string       `xml:"larq"` // 立案日期
	JARQ    string       `xml:"jarq,omitempty"`
	AJZT    string       `xml:"ajzt"` // 已立案/审理中/已结案
	JAFS    string       `xml:"jafs,omitempty"`
	DSR     []CourtParty `xml:"dsrList>dsr"`
	GXSJ    string       `xml:"gxsj"` // 更新时间 2006-01-02 15:04:05

	Updated   time.Time `xml:"-"`
	Malformed string    `xml:"-"`
}

// CourtParty is a party to a filing.
type CourtParty struct {
	SSDW string `xml:"ssdw"` // 诉讼地位：原告/被告
	LX   string `xml:"lx"`   // 自然人/法人
	MC   string `xml:"mc"`   // 名称
	ZJHM string `xml:"zjhm,omitempty"`
	DZ   string `xml:"dz,omitempty"` // 住所地
}

// CourtDateLayout is how the court writes dates.
const CourtDateLayout = "2006-01-02"

func (g *generator) addCourt(st *story) *CourtCase {
	w := g.world
	filed := st.at
	c := &CourtCase{
		AH:   fmt.Sprintf("(%s)浙1081%s%d号", filed.In(CST).Format("2006"), st.tpl.kind, 1000+len(w.Court)),
		AY:   st.tpl.category,
		SSQQ: g.fill(st.tpl.content, st),
		LARQ: filed.In(CST).Format(CourtDateLayout),
	}
	plaintiffs := append([]*Resident{st.person}, st.co...)
	for _, p := range plaintiffs {
		c.DSR = append(c.DSR, CourtParty{SSDW: "原告", LX: "自然人", MC: p.Name, ZJHM: p.IDNumber, DZ: st.address})
	}
	var defendant string
	if containsSlot(st.tpl.content, '企') || st.tpl.category == "服务合同纠纷" {
		c.DSR = append(c.DSR, CourtParty{SSDW: "被告", LX: "法人", MC: st.company.Name, ZJHM: st.company.CreditCode})
		defendant = st.company.Name
	} else {
		c.DSR = append(c.DSR, CourtParty{SSDW: "被告", LX: "自然人", MC: st.other.Name, ZJHM: st.other.IDNumber, DZ: g.address(st.other.Village)})
		defendant = st.other.Name
	}
	c.AJMC = fmt.Sprintf("%s与%s%s", st.person.Name, defendant, st.tpl.category)
	updated := filed
	switch r := g.rnd.Float64(); {
	case r < 0.6:
		done := g.after(filed, 40*24*time.Hour)
		c.AJZT, c.JARQ, c.JAFS = "已结案", done.In(CST).Format(CourtDateLayout), g.pick([]string{"调解", "判决", "撤诉"})
		updated = done
	case r < 0.9:
		c.AJZT = "审理中"
		updated = g.after(filed, 7*24*time.Hour)
	default:
		c.AJZT = "已立案"
	}
	c.Updated, c.GXSJ = updated, updated.In(CST).Format(HotlineTimeLayout)
	if g.chance(g.cfg.MalformedRate) {
		c.LARQ, c.Malformed = "2026年某月", "bad filing date"
	}
	w.Court = append(w.Court, c)
	g.remember(st, fengqiao.SourceCourt, c.AH)
	return c
}
