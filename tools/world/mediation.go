package world

import (
	"fmt"
	"time"

	"fengqiao"
)

// MediationCase is a case of the grid mediation ledger (矛盾纠纷调处台账) of
// 基层智治综合应用, as that system serves it: camelCase fields and epoch milliseconds.
type MediationCase struct {
	CaseNo         string           `json:"caseNo"`
	CaseTitle      string           `json:"caseTitle"`
	CaseDesc       string           `json:"caseDesc"`
	DisputeType    string           `json:"disputeType"`
	OccurTime      int64            `json:"occurTime"`
	AcceptTime     int64            `json:"acceptTime"`
	GridCode       string           `json:"gridCode"`
	Address        string           `json:"address"`
	HandleLevel    string           `json:"handleLevel"` // 村级/镇级/县级
	CaseStatus     string           `json:"caseStatus"`  // 已受理/已交办/调解中/调解成功/调解不成功/已归档
	MediateResult  string           `json:"mediateResult,omitempty"`
	FinishTime     *int64           `json:"finishTime,omitempty"`
	LastModifyTime int64            `json:"lastModifyTime"`
	Parties        []MediationParty `json:"parties"`
	// Set when a task (交办/督办) is created on the case on a hub's request.
	UndertakeOrgCode string `json:"undertakeOrgCode,omitempty"` // 承办单位编码
	DisputeCode      string `json:"disputeCode,omitempty"`      // 解纷码 of the matter, as the hub gave it
	// Malformed says how the record was broken on purpose, for tests; "" if it is sound.
	Malformed string `json:"-"`
}

// MediationParty is one party of a mediation case.
type MediationParty struct {
	PartyType  string `json:"partyType"` // 1 自然人, 2 法人或其他组织
	PartyRole  string `json:"partyRole"` // 申请人/被申请人
	Name       string `json:"name"`
	IDCard     string `json:"idCard,omitempty"`
	Phone      string `json:"phone,omitempty"`
	CreditCode string `json:"creditCode,omitempty"`
}

// addMediation adds the mediation case a story tells.
func (g *generator) addMediation(st *story) *MediationCase {
	w := g.world
	occur := st.at
	accept := g.after(occur, 3*time.Hour)
	applicant := st.person
	c := &MediationCase{
		CaseNo:      fmt.Sprintf("TJ%s%06d", accept.In(CST).Format("2006"), len(w.Mediation)),
		CaseTitle:   g.fill(st.tpl.title, st),
		CaseDesc:    g.fill(st.tpl.content, st),
		DisputeType: st.tpl.category,
		OccurTime:   occur.UnixMilli(),
		AcceptTime:  accept.UnixMilli(),
		GridCode:    fmt.Sprintf("%s%03d", st.village.Code, 1+g.rnd.IntN(fengqiao.GridsPerVillage)),
		Address:     st.address,
	}
	for _, p := range append([]*Resident{applicant}, st.co...) {
		c.Parties = append(c.Parties, MediationParty{PartyType: "1", PartyRole: "申请人", Name: p.Name, IDCard: p.IDNumber, Phone: p.Phone})
	}
	// The other side: a company where the template names one, else a neighbour.
	if containsSlot(st.tpl.title+st.tpl.content, '企') {
		c.Parties = append(c.Parties, MediationParty{PartyType: "2", PartyRole: "被申请人", Name: st.company.Name, CreditCode: st.company.CreditCode})
	} else {
		c.Parties = append(c.Parties, MediationParty{PartyType: "1", PartyRole: "被申请人", Name: st.other.Name, IDCard: st.other.IDNumber, Phone: st.other.Phone})
	}
	// Most disputes are settled where they arise (就地化解): village, then town, then county.
	switch r := g.rnd.Float64(); {
	case r < 0.73:
		c.HandleLevel = "村级"
	case r < 0.99:
		c.HandleLevel = "镇级"
	default:
		c.HandleLevel = "县级"
	}
	modified := accept
	switch r := g.rnd.Float64(); {
	case r < 0.85:
		done := g.after(accept, 48*time.Hour)
		ms := done.UnixMilli()
		c.CaseStatus, c.MediateResult, c.FinishTime = "调解成功", "双方达成调解协议", &ms
		modified = done
	case r < 0.90:
		done := g.after(accept, 72*time.Hour)
		ms := done.UnixMilli()
		c.CaseStatus, c.MediateResult, c.FinishTime = "调解不成功", "引导当事人通过诉讼途径解决", &ms
		modified = done
	case r < 0.97:
		c.CaseStatus = "调解中"
		modified = g.after(accept, 6*time.Hour)
	default:
		c.CaseStatus = "已受理"
	}
	c.LastModifyTime = modified.UnixMilli()
	if g.chance(g.cfg.MalformedRate) {
		g.breakMediation(c)
	}
	w.Mediation = append(w.Mediation, c)
	g.remember(st, fengqiao.SourceMediation, c.CaseNo)
	return c
}

func (g *generator) breakMediation(c *MediationCase) {
	switch g.rnd.IntN(3) {
	case 0:
		c.AcceptTime, c.Malformed = 0, "no accept time"
	case 1:
		c.GridCode, c.Malformed = "999999999999999", "unknown grid"
	default:
		c.Parties = append(c.Parties, MediationParty{PartyType: "1", PartyRole: "申请人"})
		c.Malformed = "nameless party"
	}
}

func containsSlot(s string, slot rune) bool {
	rs := []rune(s)
	for i := 0; i+2 < len(rs); i++ {
		if rs[i] == '{' && rs[i+1] == slot && rs[i+2] == '}' {
			return true
		}
	}
	return false
}
