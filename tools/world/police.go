package world

import (
	"fmt"
	"math"
	"strings"
	"time"

	"fengqiao"
)

// PoliceIncident is a 110 call (警情) as the police platform serves it: a change
// feed numbered by seq, RFC 3339 times, coordinates in degrees.
type PoliceIncident struct {
	Seq  int64        `json:"seq"`
	JQBH string       `json:"jqbh"` // 警情编号
	BJSJ string       `json:"bjsj"` // 报警时间
	JQLB string       `json:"jqlb"` // 警情类别：纠纷/治安/交通/求助
	JQXL string       `json:"jqxl"` // 警情细类
	JQBT string       `json:"jqbt"` // 警情摘要
	BJNR string       `json:"bjnr"` // 报警内容
	FSDZ string       `json:"fsdz"` // 发生地址
	JD   float64      `json:"jd"`   // 经度
	WD   float64      `json:"wd"`   // 纬度
	BJR  PoliceCaller `json:"bjr"`  // 报警人
	CJDW string       `json:"cjdw"` // 处警单位
	ZT   string       `json:"zt"`   // 状态：已接警/已派警/处置中/已处置
	CJJG string       `json:"cjjg,omitempty"`
	GXSJ string       `json:"gxsj"` // 更新时间

	Updated   time.Time `json:"-"`
	Malformed string    `json:"-"`
}

// PoliceCaller is who called 110.
type PoliceCaller struct {
	XM   string `json:"xm"`
	SFZH string `json:"sfzh,omitempty"`
	LXDH string `json:"lxdh"`
}

// Coordinates returns a village's synthetic position around Wenling (28.37N, 121.37E).
func Coordinates(code string) (lat, lon float64) {
	var h uint64 = 1469598103934665603
	for _, c := range code {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return 28.37 + float64(h%3000)/10000 - 0.15, 121.37 + float64(h/3000%3000)/10000 - 0.15
}

func (g *generator) addPolice(st *story) *PoliceIncident {
	w := g.world
	lat, lon := Coordinates(st.village.Code)
	called := st.at
	p := &PoliceIncident{
		JQBH: fmt.Sprintf("J331081%s%05d", called.In(CST).Format("20060102"), len(w.Police)),
		BJSJ: called.In(CST).Format(time.RFC3339),
		JQLB: st.tpl.kind, JQXL: st.tpl.category,
		JQBT: g.fill(st.tpl.title, st), BJNR: g.fill(st.tpl.content, st),
		FSDZ: st.address, JD: round6(lon + g.rnd.Float64()/1000), WD: round6(lat + g.rnd.Float64()/1000),
		BJR:  PoliceCaller{XM: st.person.Name, LXDH: st.person.Phone},
		CJDW: strings.TrimSuffix(strings.TrimSuffix(st.village.Parent().Name, "街道"), "镇") + "派出所",
	}
	if g.chance(0.5) {
		p.BJR.SFZH = st.person.IDNumber
	}
	updated := g.after(called, 20*time.Minute)
	if g.chance(0.9) {
		p.ZT, p.CJJG = "已处置", g.pick([]string{"现场调解", "双方和解", "移交村居调解", "告知诉讼途径"})
		updated = g.after(called, 2*time.Hour)
	} else {
		p.ZT = g.pick([]string{"已派警", "处置中"})
	}
	p.Updated, p.GXSJ = updated, updated.In(CST).Format(time.RFC3339)
	if g.chance(g.cfg.MalformedRate) {
		switch g.rnd.IntN(2) {
		case 0:
			p.BJSJ, p.Malformed = "昨天下午", "bad call time"
		default:
			p.FSDZ, p.Malformed = "地址不详", "no place"
		}
	}
	w.Police = append(w.Police, p)
	g.remember(st, fengqiao.SourcePolice110, p.JQBH)
	return p
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }
