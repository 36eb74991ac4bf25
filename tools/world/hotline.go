package world

import (
	"fmt"
	"time"

	"fengqiao"
)

// HotlineOrder is a 12345 work order (工单) exactly as the hotline system serves it:
// abbreviated-pinyin field names and "2006-01-02 15:04:05" local times.
type HotlineOrder struct {
	GDBH  string `json:"gdbh"`           // 工单编号
	LDSJ  string `json:"ldsj"`           // 来电时间
	LDRXM string `json:"ldrxm"`          // 来电人姓名
	LXDH  string `json:"lxdh"`           // 联系电话
	SQLX  string `json:"sqlx"`           // 诉求类型：投诉/求助/咨询/建议
	SQLB  string `json:"sqlb"`           // 诉求类别
	SQBT  string `json:"sqbt"`           // 诉求标题
	SQNR  string `json:"sqnr"`           // 诉求内容
	SFDZ  string `json:"sfdz"`           // 事发地址
	QHDM  string `json:"qhdm"`           // 区划代码（村社）
	BLDW  string `json:"bldw"`           // 办理单位
	BLZT  string `json:"blzt"`           // 办理状态：待受理/已派单/办理中/已办结/已归档
	BLQX  string `json:"blqx"`           // 办理期限
	BJSJ  string `json:"bjsj,omitempty"` // 办结时间
	HFJG  string `json:"hfjg,omitempty"` // 回访结果
	GXSJ  string `json:"gxsj"`           // 更新时间
	// Set when the platform dispatches the order on a hub's request (交办/督办).
	CBDW string `json:"cbdw,omitempty"` // 承办单位代码
	JFM  string `json:"jfm,omitempty"`  // 解纷码 of the matter, as the hub gave it
	BLJG string `json:"bljg,omitempty"` // 办理结果

	// Updated is GXSJ as a time, for the simulator's ordering.
	Updated time.Time `json:"-"`
	// Malformed says how the record was broken on purpose, for tests; "" if it is sound.
	Malformed string `json:"-"`
}

// HotlineTimeLayout is the hotline system's time format (China Standard Time).
const HotlineTimeLayout = "2006-01-02 15:04:05"

// CST is China Standard Time, which every upstream speaks.
var CST = fengqiao.CST

// addHotline adds the work order a story tells.
func (g *generator) addHotline(st *story) *HotlineOrder {
	w := g.world
	called := st.at
	o := &HotlineOrder{
		GDBH:  fmt.Sprintf("GD%s%06d", called.In(CST).Format("20060102"), len(w.Hotline)),
		LDSJ:  called.In(CST).Format(HotlineTimeLayout),
		LDRXM: st.person.Name,
		LXDH:  st.person.Phone,
		SQLX:  st.tpl.kind,
		SQLB:  st.tpl.category,
		SQBT:  g.fill(st.tpl.title, st),
		SQNR:  g.fill(st.tpl.content, st),
		SFDZ:  st.address,
		QHDM:  st.village.Code,
		BLDW:  st.village.Parent().Name + "人民政府",
		BLQX:  called.Add(5 * 24 * time.Hour).In(CST).Format(HotlineTimeLayout),
	}
	updated := g.after(called, 2*time.Hour)
	switch r := g.rnd.Float64(); {
	case r < 0.80:
		done := g.after(called, 30*time.Hour)
		o.BLZT, o.BJSJ, o.HFJG = "已办结", done.In(CST).Format(HotlineTimeLayout), g.pick([]string{"满意", "满意", "满意", "基本满意", "不满意"})
		updated = done
	case r < 0.88:
		o.BLZT = "办理中"
	case r < 0.95:
		o.BLZT = "已派单"
	default:
		o.BLZT = "待受理"
		updated = called
	}
	o.Updated = updated
	o.GXSJ = updated.In(CST).Format(HotlineTimeLayout)
	if g.chance(g.cfg.MalformedRate) {
		g.breakHotline(o)
	}
	w.Hotline = append(w.Hotline, o)
	g.remember(st, fengqiao.SourceHotline12345, o.GDBH)
	return o
}

// breakHotline damages a record the ways real feeds arrive damaged.
func (g *generator) breakHotline(o *HotlineOrder) {
	switch g.rnd.IntN(3) {
	case 0:
		o.LDSJ, o.Malformed = "2026-13-45 25:61:00", "bad call time"
	case 1:
		o.QHDM, o.SFDZ, o.Malformed = "", "", "no place"
	default:
		o.SQBT, o.SQNR, o.Malformed = "", "", "no text"
	}
}
