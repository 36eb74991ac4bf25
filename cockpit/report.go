package cockpit

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"fengqiao"
	"fengqiao/orders"
)

// The monthly bulletin (每月通报): a unit's dispute police calls, civil and
// commercial filings, first reports and hotline demands of a month, per child
// unit with the month before and the change (环比), the settlement rates, and the
// orders of the month, as an Excel workbook. Every figure is read from the
// cockpit's own Figures and from orders.Service.Figures, so the workbook and the
// cockpit agree by construction. docs/operations.md defines each figure.

// Sheet names of the bulletin.
const (
	SheetSummary = "概况"
	SheetOrders  = "工单"
)

// UnitsSheet is the name of the sheet with one row per child unit of a unit at
// level: 分镇街 for the county, 分村社 for a town, 分网格 for a village.
func UnitsSheet(level fengqiao.OrgLevel) string {
	switch level {
	case fengqiao.LevelCounty:
		return "分镇街"
	case fengqiao.LevelTown:
		return "分村社"
	case fengqiao.LevelVillage:
		return "分网格"
	}
	return "分下级单位"
}

var monthPattern = regexp.MustCompile(`^(\d{4})-(\d{2})$`)

// ParseMonth reads a month written YYYY-MM (2026-10) and returns its first
// instant in China time.
func ParseMonth(s string) (time.Time, error) {
	m := monthPattern.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fengqiao.Errorf(fengqiao.EINVALID, "月份格式有误：%q，应为 YYYY-MM，如 2026-10", s)
	}
	year, _ := strconv.Atoi(m[1])
	month, _ := strconv.Atoi(m[2])
	if month < 1 || month > 12 {
		return time.Time{}, fengqiao.Errorf(fengqiao.EINVALID, "月份有误：%q，月份应在 01 到 12 之间", s)
	}
	if year < 2000 {
		return time.Time{}, fengqiao.Errorf(fengqiao.EINVALID, "月份有误：%q，年份应不早于 2000 年", s)
	}
	return time.Date(year, time.Month(month), 1, 0, 0, 0, 0, fengqiao.CST), nil
}

// Bulletin is a unit's monthly bulletin, gathered; Workbook writes it.
type Bulletin struct {
	Unit *fengqiao.OrgUnit
	// From and To bound the month in China time: [From, To). LastFrom is the
	// month before's first instant ([LastFrom, From)).
	From, To, LastFrom time.Time
	Generated          time.Time
	// Total is the unit itself; Units its child units, in code order.
	Total BulletinLine
	Units []BulletinLine
	// Orders are the orders of the month in the unit's subtree, newest first (nil
	// without an orders service); OrdersAt is when their state was read.
	Orders   []*fengqiao.Order
	OrdersAt time.Time
	// HasOrders tells whether the hub keeps orders at all.
	HasOrders bool

	names map[string]string // full names of the orders' units
}

// BulletinLine is one unit's figures of the month and of the month before.
type BulletinLine struct {
	Unit       *fengqiao.OrgUnit
	This, Last *fengqiao.CockpitFigures
	Orders     orders.Figures // issued in the month
	LastOrders orders.Figures // issued in the month before
}

// The sources the bulletin counts, as the cockpit's facets name them.
var (
	policeCalls     = string(fengqiao.SourcePolice110)    // the hub keeps only the 纠纷 class of 110 calls
	courtFilings    = string(fengqiao.SourceCourt)        // the court's exchange serves civil and commercial filings
	hotlineRequests = string(fengqiao.SourceHotline12345) // every 12345 work order is a demand (诉求)
)

// PoliceCalls is 110纠纷类警情: the 110 dispute calls of the period.
func PoliceCalls(f *fengqiao.CockpitFigures) int { return sourceCount(f, policeCalls) }

// CourtFilings is 法院民商事立案: the civil and commercial filings of the period.
func CourtFilings(f *fengqiao.CockpitFigures) int { return sourceCount(f, courtFilings) }

// HotlineDemands is 12345诉求: the 12345 work orders of the period.
func HotlineDemands(f *fengqiao.CockpitFigures) int { return sourceCount(f, hotlineRequests) }

func sourceCount(f *fengqiao.CockpitFigures, source string) int {
	if f == nil || f.Facets == nil {
		return 0
	}
	for _, c := range f.Facets.Sources {
		if c.Value == source {
			return c.Count
		}
	}
	return 0
}

// Bulletin gathers the bulletin of unit orgCode for the month that starts at
// month (ParseMonth), from the cockpit's figures of the unit and of each child
// unit, and from ord's orders (nil: the hub keeps none). The orders listed are
// those the caller in ctx may see (all, without a caller).
func (s *Service) Bulletin(ctx context.Context, orgCode string, month time.Time, ord *orders.Service) (*Bulletin, error) {
	unit := s.tree.Unit(orgCode)
	if unit == nil {
		return nil, fengqiao.Errorf(fengqiao.ENOTFOUND, "组织单元编码不存在：%s", orgCode)
	}
	month = month.In(fengqiao.CST)
	from := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, fengqiao.CST)
	now := s.now()
	if from.After(now) {
		return nil, fengqiao.Errorf(fengqiao.EINVALID, "%s尚未开始，无法生成通报", monthName(from))
	}
	b := &Bulletin{Unit: unit, From: from, To: from.AddDate(0, 1, 0), LastFrom: from.AddDate(0, -1, 0), Generated: now, HasOrders: ord != nil}
	line := func(u *fengqiao.OrgUnit) (BulletinLine, error) {
		l := BulletinLine{Unit: u}
		var err error
		if l.This, err = s.Figures(ctx, u.Code, b.From, b.To, fengqiao.Month); err != nil {
			return l, err
		}
		if l.Last, err = s.Figures(ctx, u.Code, b.LastFrom, b.From, fengqiao.Month); err != nil {
			return l, err
		}
		if ord != nil {
			if l.Orders, err = ord.Figures(u.Code, b.From, b.To); err != nil {
				return l, err
			}
			if l.LastOrders, err = ord.Figures(u.Code, b.LastFrom, b.From); err != nil {
				return l, err
			}
		}
		return l, nil
	}
	var err error
	if b.Total, err = line(unit); err != nil {
		return nil, err
	}
	for _, c := range unit.Children() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l, err := line(c)
		if err != nil {
			return nil, err
		}
		b.Units = append(b.Units, l)
	}
	if ord != nil {
		b.OrdersAt = ord.Now()
		if b.Orders, err = ord.Orders(ctx, orders.OrderFilter{OrgCode: unit.Code, From: &b.From, To: &b.To}, 0); err != nil {
			return nil, err
		}
		b.names = map[string]string{}
		for _, o := range b.Orders {
			for _, code := range []string{o.IssuerOrg, o.AddresseeOrg} {
				if u := s.tree.Unit(code); u != nil {
					b.names[code] = u.FullName()
				}
			}
		}
	}
	return b, nil
}

// FileName is the workbook's file name: 每月通报-温岭市-2026-10.xlsx.
func (b *Bulletin) FileName() string {
	return fmt.Sprintf("每月通报-%s-%s.xlsx", b.Unit.Name, b.From.Format("2006-01"))
}

func monthName(t time.Time) string { return t.Format("2006年1月") }

// WriteTo writes the workbook (.xlsx) to w.
func (b *Bulletin) WriteTo(w io.Writer) (int64, error) {
	f, err := b.Workbook()
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.WriteTo(w)
}

// Workbook lays the bulletin out: 概况, the child units' sheet (UnitsSheet) and 工单.
func (b *Bulletin) Workbook() (*excelize.File, error) {
	f := excelize.NewFile()
	w := &workbook{f: f}
	if err := w.styles(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.SetSheetName("Sheet1", SheetSummary); err != nil {
		f.Close()
		return nil, err
	}
	b.summary(w)
	b.units(w)
	b.orders(w)
	f.SetActiveSheet(0)
	w.try(f.SetDocProps(&excelize.DocProperties{
		Title:   fmt.Sprintf("%s%s每月通报", b.Unit.FullName(), monthName(b.From)),
		Subject: "每月通报", Creator: "fengqiao 县域社会治理数据枢纽", Language: "zh-CN",
		Created: b.Generated.UTC().Format(time.RFC3339),
	}))
	if w.err != nil {
		f.Close()
		return nil, w.err
	}
	return f, nil
}

// workbook writes cells and keeps the first error.
type workbook struct {
	f                                                      *excelize.File
	err                                                    error
	title, header, count, rate, change, points, text, note int
}

func (w *workbook) try(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *workbook) styles() error {
	border := []excelize.Border{{Type: "left", Color: "BFBFBF", Style: 1}, {Type: "right", Color: "BFBFBF", Style: 1},
		{Type: "top", Color: "BFBFBF", Style: 1}, {Type: "bottom", Color: "BFBFBF", Style: 1}}
	custom := func(s string) *string { return &s }
	for _, st := range []struct {
		id    *int
		style *excelize.Style
	}{
		{&w.title, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}},
		{&w.header, &excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		{&w.count, &excelize.Style{NumFmt: 3, Border: border}},                                                // #,##0
		{&w.rate, &excelize.Style{CustomNumFmt: custom("0.0%"), Border: border}},                              // 就地化解率…
		{&w.change, &excelize.Style{CustomNumFmt: custom("+0.0%;-0.0%;0.0%"), Border: border}},                // 环比
		{&w.points, &excelize.Style{CustomNumFmt: custom(`+0.0"个百分点";-0.0"个百分点";0.0"个百分点"`), Border: border}}, // a rate's change
		{&w.text, &excelize.Style{Border: border}},
		{&w.note, &excelize.Style{Font: &excelize.Font{Color: "595959"}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
	} {
		id, err := w.f.NewStyle(st.style)
		if err != nil {
			return err
		}
		*st.id = id
	}
	return nil
}

// cell is a value with its style.
type cell struct {
	v     any
	style int
}

// row writes cells from column 1 of row r.
func (w *workbook) row(sheet string, r int, cells ...cell) {
	for i, c := range cells {
		name, _ := excelize.CoordinatesToCellName(i+1, r)
		w.try(w.f.SetCellValue(sheet, name, c.v))
		if c.style != 0 {
			w.try(w.f.SetCellStyle(sheet, name, name, c.style))
		}
	}
}

// headerRow writes a header row and freezes the sheet below it (and right of the
// first frozenCols columns).
func (w *workbook) headerRow(sheet string, r, frozenCols int, names ...string) {
	cells := make([]cell, len(names))
	for i, n := range names {
		cells[i] = cell{n, w.header}
	}
	w.row(sheet, r, cells...)
	w.try(w.f.SetRowHeight(sheet, r, 32))
	top, _ := excelize.CoordinatesToCellName(frozenCols+1, r+1)
	pane := "bottomLeft"
	if frozenCols > 0 {
		pane = "bottomRight"
	}
	w.try(w.f.SetPanes(sheet, &excelize.Panes{Freeze: true, XSplit: frozenCols, YSplit: r, TopLeftCell: top, ActivePane: pane}))
}

func (w *workbook) widths(sheet string, widths ...float64) {
	for i, width := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		w.try(w.f.SetColWidth(sheet, col, col, width))
	}
}

func (w *workbook) n(v int) cell { return cell{v, w.count} }

// pct is a rate, or — when there was nothing to divide by.
func (w *workbook) pct(r *float64) cell {
	if r == nil {
		return cell{"—", w.text}
	}
	return cell{*r, w.rate}
}

// Change is 环比: (this − last) ÷ last, nil when last is 0.
func Change(this, last int) *float64 {
	if last == 0 {
		return nil
	}
	c := float64(this-last) / float64(last)
	return &c
}

func (w *workbook) chg(this, last int) cell {
	c := Change(this, last)
	if c == nil {
		return cell{"—", w.text}
	}
	return cell{*c, w.change}
}

// pts is a rate's change in percentage points.
func (w *workbook) pts(this, last *float64) cell {
	if this == nil || last == nil {
		return cell{"—", w.text}
	}
	return cell{(*this - *last) * 100, w.points}
}

// firstReportsNote says what stands for 初信初访 (first petitions).
const firstReportsNote = "初次信访：枢纽尚未接入信访系统，以“初次反映”代替——本月在12345热线、110警情、矛盾调处中首次反映的事项（其串联中没有更早的事件；不在串联中的事件自成一事）。"

func (b *Bulletin) summary(w *workbook) {
	const sh = SheetSummary
	t, l := b.Total.This, b.Total.Last
	w.row(sh, 1, cell{fmt.Sprintf("%s%s矛盾纠纷每月通报", b.Unit.FullName(), monthName(b.From)), w.title})
	w.row(sh, 2, cell{"单位", w.header}, cell{b.Unit.FullName(), w.text}, cell{b.Unit.Code, w.text})
	w.row(sh, 3, cell{"统计月份", w.header}, cell{monthName(b.From), w.text},
		cell{fmt.Sprintf("%s 至 %s（北京时间，上月 %s）", b.From.Format("2006-01-02"), b.To.AddDate(0, 0, -1).Format("2006-01-02"), monthName(b.LastFrom)), w.text})
	w.row(sh, 4, cell{"生成时间", w.header}, cell{b.Generated.In(fengqiao.CST).Format("2006-01-02 15:04:05"), w.text}, cell{"数据截至生成时；本月未结束的，为本月已过的部分", w.text})
	const head = 6
	w.headerRow(sh, head, 1, "指标", "本月", "上月", "环比", "口径")
	type line struct {
		name        string
		this, last  int
		def         string
		rate        bool
		rThis, rLst *float64
	}
	lines := []line{
		{name: "110纠纷类警情", this: PoliceCalls(t), last: PoliceCalls(l), def: "110接报的纠纷类警情（枢纽只接入纠纷类），按报警时间"},
		{name: "法院民商事立案", this: CourtFilings(t), last: CourtFilings(l), def: "法院民商事一审立案，按立案时间"},
		{name: "初次反映（初信初访）", this: t.FirstReports, last: l.FirstReports, def: firstReportsNote},
		{name: "12345诉求", this: HotlineDemands(t), last: HotlineDemands(l), def: "12345热线工单（投诉、求助、咨询、建议），按受理时间"},
		{name: "事件总量", this: t.Total, last: l.Total, def: "本月各来源报告的全部事件，与驾驶舱“事件总量”相同"},
		{name: "矛盾纠纷受理", this: t.MediationAccepted, last: l.MediationAccepted, def: "矛盾调处台账本月受理的纠纷"},
		{name: "矛盾纠纷化解", this: t.MediationSettled, last: l.MediationSettled, def: "其中已化解或已归档的"},
		{name: "调处率", rate: true, rThis: t.MediationRate, rLst: l.MediationRate, def: "化解 ÷ 受理；环比为百分点之差"},
		{name: "就地化解率", rate: true, rThis: t.OnSiteRate, rLst: l.OnSiteRate, def: "在镇街、村社、网格化解的 ÷ 化解的"},
		{name: "初次反映化解", this: t.FirstResolved, last: l.FirstResolved, def: "初次反映中已化解且事后未再反映的"},
		{name: "初次反映问题化解率", rate: true, rThis: t.FirstResolvedRate, rLst: l.FirstResolvedRate, def: "初次反映化解 ÷ 初次反映"},
		{name: "回访量", this: t.Surveys, last: l.Surveys, def: "本月回访"},
		{name: "满意率", rate: true, rThis: t.SatisfactionRate, rLst: l.SatisfactionRate, def: "满意或基本满意的回访 ÷ 回访"},
		{name: "超期未办结", this: t.Overdue, last: l.Overdue, def: "该月的事件中未办结且已过办理期限的（按生成时）"},
	}
	if b.HasOrders {
		o, lo := b.Total.Orders, b.Total.LastOrders
		lines = append(lines,
			line{name: "交办督办工单", this: o.Issued, last: lo.Issued, def: "该月交办、督办到本单位及下级单位的工单（含转办），状态为生成时"},
			line{name: "工单按期办结", this: o.OnTime, last: lo.OnTime, def: "按期反馈并通过审核的"},
			line{name: "工单逾期", this: o.Overdue, last: lo.Overdue, def: "已过期限仍未反馈的，和逾期后才反馈的"},
			line{name: "工单退回重办", this: o.Returned, last: lo.Returned, def: "审核时被退回过的"},
			line{name: "工单已销号", this: o.Closed, last: lo.Closed, def: "交办单位已销号的"},
			line{name: "挂牌督办", this: o.Listed, last: lo.Listed, def: "挂牌督办的工单"},
		)
	}
	for i, ln := range lines {
		r := head + 1 + i
		if ln.rate {
			w.row(sh, r, cell{ln.name, w.text}, w.pct(ln.rThis), w.pct(ln.rLst), w.pts(ln.rThis, ln.rLst), cell{ln.def, w.note})
		} else {
			w.row(sh, r, cell{ln.name, w.text}, w.n(ln.this), w.n(ln.last), w.chg(ln.this, ln.last), cell{ln.def, w.note})
		}
	}
	r := head + len(lines) + 2
	w.row(sh, r, cell{"说明", w.header}, cell{"环比 =（本月 − 上月）÷ 上月；上月为 0 时记“—”。比率的环比为百分点之差。全部数字取自驾驶舱同一口径的统计（见 docs/metrics.md），" +
		"分单位数字见“" + UnitsSheet(b.Unit.Level) + "”表，工单见“工单”表。", w.note})
	w.try(w.f.MergeCell(sh, cellName(2, r), cellName(5, r)))
	w.try(w.f.SetRowHeight(sh, r, 48))
	w.widths(sh, 22, 16, 16, 16, 70)
}

func cellName(col, row int) string {
	n, _ := excelize.CoordinatesToCellName(col, row)
	return n
}

// UnitsHeader is the header of the child units' sheet.
var UnitsHeader = []string{"单位编码", "单位",
	"110纠纷类警情", "110纠纷类警情（上月）", "110纠纷类警情环比",
	"法院民商事立案", "法院民商事立案（上月）", "法院民商事立案环比",
	"初次反映", "初次反映（上月）", "初次反映环比",
	"12345诉求", "12345诉求（上月）", "12345诉求环比",
	"矛盾纠纷受理", "矛盾纠纷化解", "调处率", "就地化解率", "初次反映化解率", "满意率", "事件总量"}

func (b *Bulletin) units(w *workbook) {
	sh := UnitsSheet(b.Unit.Level)
	if _, err := w.f.NewSheet(sh); err != nil {
		w.try(err)
		return
	}
	w.headerRow(sh, 1, 2, UnitsHeader...)
	write := func(r int, name string, l BulletinLine) {
		t, p := l.This, l.Last
		w.row(sh, r, cell{l.Unit.Code, w.text}, cell{name, w.text},
			w.n(PoliceCalls(t)), w.n(PoliceCalls(p)), w.chg(PoliceCalls(t), PoliceCalls(p)),
			w.n(CourtFilings(t)), w.n(CourtFilings(p)), w.chg(CourtFilings(t), CourtFilings(p)),
			w.n(t.FirstReports), w.n(p.FirstReports), w.chg(t.FirstReports, p.FirstReports),
			w.n(HotlineDemands(t)), w.n(HotlineDemands(p)), w.chg(HotlineDemands(t), HotlineDemands(p)),
			w.n(t.MediationAccepted), w.n(t.MediationSettled),
			w.pct(t.MediationRate), w.pct(t.OnSiteRate), w.pct(t.FirstResolvedRate), w.pct(t.SatisfactionRate), w.n(t.Total))
	}
	for i, l := range b.Units {
		write(2+i, l.Unit.Name, l)
	}
	r := 2 + len(b.Units)
	write(r, "合计（"+b.Unit.Name+"）", b.Total)
	w.try(w.f.SetCellStyle(sh, cellName(1, r), cellName(2, r), w.header))
	note := "合计为本单位整体的数字（与驾驶舱相同），不是各行相加：事项可能跨单位串联，全县还含未能落到镇街的事件。" + firstReportsNote
	if len(b.Units) == 0 {
		note = "本单位没有下级单位。" + note
	}
	w.row(sh, r+2, cell{"说明", w.header}, cell{note, w.note})
	w.try(w.f.MergeCell(sh, cellName(2, r+2), cellName(len(UnitsHeader), r+2)))
	w.try(w.f.SetRowHeight(sh, r+2, 36))
	w.widths(sh, 14, 16)
	col, _ := excelize.ColumnNumberToName(len(UnitsHeader))
	w.try(w.f.SetColWidth(sh, "C", col, 12))
}

// OrderFiguresHeader and OrdersHeader are the headers of the 工单 sheet's two
// tables: the figures per unit, then the orders of the month.
var (
	OrderFiguresHeader = []string{"单位编码", "单位", "交办督办", "按期办结", "逾期", "退回重办", "已销号", "挂牌督办", "在办"}
	OrdersHeader       = []string{"解纷码", "工单号", "类型", "交办单位", "受理单位", "交办日期", "期限", "状态", "是否挂牌", "是否逾期", "优先级"}
)

var (
	orderKinds  = map[fengqiao.OrderKind]string{fengqiao.OrderAssign: "交办", fengqiao.OrderSupervise: "督办"}
	orderStates = map[fengqiao.OrderState]string{fengqiao.OrderOpen: "办理中", fengqiao.OrderFedBack: "已反馈待审核",
		fengqiao.OrderReturned: "退回重办", fengqiao.OrderAccepted: "审核通过待销号", fengqiao.OrderClosed: "已销号"}
	listedLevels = map[fengqiao.ListedLevel]string{fengqiao.ListedCounty: "县级挂牌", fengqiao.ListedTown: "镇级挂牌"}
	priorities   = map[fengqiao.OrderPriority]string{fengqiao.PriorityNormal: "一般", fengqiao.PriorityUrgent: "紧急", fengqiao.PriorityCritical: "特急"}
)

// OrderOverdue is the 是否逾期 of an order at now, as orders.Figures counts
// Overdue: open past its deadline, or its accepted feedback came late.
func OrderOverdue(o *fengqiao.Order, now time.Time) bool {
	if o.Overdue(now) {
		return true
	}
	for _, st := range o.Steps {
		if st.Action == fengqiao.ActionAccept {
			return !o.OnTime()
		}
	}
	return false
}

func (b *Bulletin) orders(w *workbook) {
	const sh = SheetOrders
	if _, err := w.f.NewSheet(sh); err != nil {
		w.try(err)
		return
	}
	w.headerRow(sh, 1, 0, OrderFiguresHeader...)
	write := func(r int, name string, l BulletinLine) {
		o := l.Orders
		w.row(sh, r, cell{l.Unit.Code, w.text}, cell{name, w.text}, w.n(o.Issued), w.n(o.OnTime), w.n(o.Overdue),
			w.n(o.Returned), w.n(o.Closed), w.n(o.Listed), w.n(o.Open))
	}
	write(2, b.Unit.Name+"（合计）", b.Total)
	for i, l := range b.Units {
		write(3+i, l.Unit.Name, l)
	}
	r := 3 + len(b.Units) + 1
	if !b.HasOrders {
		w.row(sh, r, cell{"本枢纽未启用工单", w.note})
		w.widths(sh, 20, 20)
		return
	}
	w.row(sh, r, cell{fmt.Sprintf("%s工单清单（%d 件，状态截至 %s）", monthName(b.From), len(b.Orders),
		b.OrdersAt.In(fengqiao.CST).Format("2006-01-02 15:04")), w.title})
	r++
	cells := make([]cell, len(OrdersHeader))
	for i, n := range OrdersHeader {
		cells[i] = cell{n, w.header}
	}
	w.row(sh, r, cells...)
	for _, o := range b.Orders {
		r++
		listed, overdue := "否", "否"
		if o.Listed != "" {
			listed = listedLevels[o.Listed]
		}
		if OrderOverdue(o, b.OrdersAt) {
			overdue = "是"
		}
		addressee := b.unitName(o.AddresseeOrg)
		if o.Department != "" {
			addressee += "（" + o.Department + "）"
		}
		w.row(sh, r, cell{o.Code, w.text}, cell{o.ID, w.text}, cell{orderKinds[o.Kind], w.text},
			cell{b.unitName(o.IssuerOrg), w.text}, cell{addressee, w.text},
			cell{o.CreatedAt.In(fengqiao.CST).Format("2006-01-02"), w.text}, cell{o.Deadline.In(fengqiao.CST).Format("2006-01-02"), w.text},
			cell{orderStates[o.State], w.text}, cell{listed, w.text}, cell{overdue, w.text}, cell{priorities[o.Priority], w.text})
	}
	if len(b.Orders) == 0 {
		w.row(sh, r+1, cell{"本月没有工单", w.note})
	}
	w.widths(sh, 20, 14, 8, 24, 30, 12, 12, 14, 10, 10, 8)
}

// unitName is the full name of the unit of code, or code if the tree has none.
func (b *Bulletin) unitName(code string) string {
	if n, ok := b.names[code]; ok {
		return n
	}
	return code
}
