package cockpit_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"fengqiao"
	"fengqiao/audit"
	"fengqiao/chains"
	"fengqiao/cockpit"
	"fengqiao/orders"
)

func TestParseMonth(t *testing.T) {
	got, err := cockpit.ParseMonth("2026-10")
	if want := time.Date(2026, 10, 1, 0, 0, 0, 0, fengqiao.CST); err != nil || !got.Equal(want) {
		t.Fatalf("ParseMonth(2026-10) = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"", "2026-13", "2026-00", "2026-1", "202610", "2026-10-01", "1999-12", "十月"} {
		if _, err := cockpit.ParseMonth(bad); fengqiao.ErrorCode(err) != fengqiao.EINVALID {
			t.Errorf("ParseMonth(%q) = %v, want EINVALID", bad, err)
		}
	}
}

// eventSubjects finds an order's event among a few.
type eventSubjects map[string]*fengqiao.Event

func (s eventSubjects) Events(_ context.Context, subj fengqiao.OrderSubject) ([]*fengqiao.Event, string, error) {
	if e := s[subj.ID]; e != nil {
		return []*fengqiao.Event{e}, "", nil
	}
	return nil, "", fengqiao.Errorf(fengqiao.ENOTFOUND, "未找到：%s", subj.ID)
}

// TestBulletinOfATown builds 泽国镇's bulletin for May 2026 over the worked
// example of docs/metrics.md, with 110 calls and court filings in May and April
// and one order, and reads the workbook back.
func TestBulletinOfATown(t *testing.T) {
	ctx := context.Background()
	idx := openTally(t)
	tree := fengqiao.Wenling()
	store, err := chains.Open(filepath.Join(t.TempDir(), "chains"), tree)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	april := time.Date(2026, 4, 10, 2, 0, 0, 0, time.UTC)
	var events []*fengqiao.Event
	add := func(src fengqiao.Source, id, org string, reported time.Time, status fengqiao.EventStatus, level fengqiao.HandlingLevel, outcome string) {
		events = append(events, &fengqiao.Event{ID: fengqiao.EventID(src, id), Source: src, SourceID: id, Kind: fengqiao.KindRequest,
			Title: "事件" + id, ReportedAt: reported, UpdatedAt: reported, Status: status, HandlingLevel: level, OrgCode: org, Outcome: outcome})
	}
	for i, f := range fixtures {
		add(f.src, f.id, f.org, at(f.day, 8+i%8), f.status, f.level, f.outcome)
		if f.project != "" {
			events[len(events)-1].ProjectCode = f.project
		}
		if f.deadline > 0 {
			d := at(f.deadline, 12)
			events[len(events)-1].Deadline = &d
		}
	}
	add(fengqiao.SourcePolice110, "p1", villageA, at(2, 1), fengqiao.StatusResolved, fengqiao.HandlingTown, "")
	add(fengqiao.SourcePolice110, "p2", villageA, at(3, 1), fengqiao.StatusResolved, fengqiao.HandlingTown, "")
	add(fengqiao.SourcePolice110, "p0", villageA, april, fengqiao.StatusResolved, fengqiao.HandlingTown, "")
	add(fengqiao.SourceCourt, "c1", villageB, at(2, 2), fengqiao.StatusReceived, "", "")
	add(fengqiao.SourceCourt, "c0", villageB, april, fengqiao.StatusReceived, "", "")
	add(fengqiao.SourceCourt, "c00", villageB, april.Add(time.Hour), fengqiao.StatusReceived, "", "")
	add(fengqiao.SourceHotline12345, "h0", villageA, april, fengqiao.StatusResolved, "", "")
	// The last hour of April in China time is April's; the first of May is May's.
	add(fengqiao.SourcePolice110, "edge-apr", villageB, time.Date(2026, 4, 30, 23, 30, 0, 0, fengqiao.CST), fengqiao.StatusResolved, fengqiao.HandlingTown, "")
	add(fengqiao.SourcePolice110, "edge-may", villageB, time.Date(2026, 5, 1, 0, 30, 0, 0, fengqiao.CST), fengqiao.StatusResolved, fengqiao.HandlingTown, "")
	if err := idx.Upsert(ctx, events); err != nil {
		t.Fatal(err)
	}
	if err := store.Link(ctx, events); err != nil {
		t.Fatal(err)
	}
	s, err := cockpit.New(tree, idx, store, time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	// One order, issued by the town to village A on May 10 and listed; read in
	// June, it is overdue.
	log, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	clock := time.Date(2026, 5, 10, 9, 0, 0, 0, fengqiao.CST)
	subjects := eventSubjects{}
	for _, e := range events {
		subjects[e.ID] = e
	}
	ord, err := orders.Open(filepath.Join(t.TempDir(), "orders.db"), orders.Config{Tree: tree, Calendar: fengqiao.OfficialCalendar(),
		Subjects: subjects, Audit: log, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ord.Close() })
	commander := fengqiao.WithPrincipal(ctx, &fengqiao.Principal{ID: "zeguo", Name: "泽国镇指挥长", Role: fengqiao.RoleCommander, OrgCode: town})
	o, err := ord.Issue(commander, orders.IssueInput{RequestID: "r1", Subject: fengqiao.OrderSubject{Kind: fengqiao.SubjectEvent, ID: "MEDIATION:m4"},
		Kind: fengqiao.OrderAssign, AddresseeOrg: villageA, WorkingDays: 3, Listed: fengqiao.ListedTown})
	if err != nil {
		t.Fatal(err)
	}
	clock = time.Date(2026, 6, 2, 9, 0, 0, 0, fengqiao.CST)

	month, _ := cockpit.ParseMonth("2026-05")
	b, err := s.Bulletin(commander, town, month, ord)
	if err != nil {
		t.Fatal(err)
	}
	if b.FileName() != "每月通报-泽国镇-2026-05.xlsx" {
		t.Errorf("file name %q", b.FileName())
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 3 || got[0] != "概况" || got[1] != "分村社" || got[2] != "工单" {
		t.Fatalf("sheets %v", got)
	}

	// 分村社: village A and B by the header's names; the total row is the town's.
	table := readTable(t, f, "分村社", cockpit.UnitsHeader)
	a, bb, total := table[villageA], table[villageB], table[town]
	for name, want := range map[string][3]string{
		"110纠纷类警情": {"2", "1", "3"}, "110纠纷类警情（上月）": {"1", "1", "2"}, "110纠纷类警情环比": {"1", "0", "0.5"},
		"法院民商事立案": {"0", "1", "1"}, "法院民商事立案（上月）": {"0", "2", "2"}, "法院民商事立案环比": {"—", "-0.5", "-0.5"},
		"12345诉求": {"3", "1", "4"}, "12345诉求（上月）": {"1", "0", "1"}, "12345诉求环比": {"2", "—", "3"},
		"矛盾纠纷受理": {"2", "2", "4"}, "矛盾纠纷化解": {"2", "1", "3"}, "调处率": {"1", "0.5", "0.75"},
	} {
		if got := [3]string{a[name], bb[name], total[name]}; got != want {
			t.Errorf("%s: villages A, B and the town: %v, want %v", name, got, want)
		}
	}
	// Every figure is the cockpit's own.
	for code, row := range table {
		this, _ := s.Figures(ctx, code, month, month.AddDate(0, 1, 0), fengqiao.Month)
		if row["事件总量"] != strconv.Itoa(this.Total) || row["初次反映"] != strconv.Itoa(this.FirstReports) {
			t.Errorf("%s: total %s, first reports %s; the cockpit's %d, %d", code, row["事件总量"], row["初次反映"], this.Total, this.FirstReports)
		}
	}
	if len(table) != len(tree.Unit(town).Children())+1 {
		t.Errorf("%d rows for the town's %d villages and the total", len(table), len(tree.Unit(town).Children()))
	}

	// 工单: the figures of the town and village A, then the list.
	rows, _ := f.GetRows("工单", excelize.Options{RawCellValue: true})
	if got := rows[1][:9]; got[0] != town || got[2] != "1" || got[4] != "1" || got[7] != "1" || got[8] != "1" {
		t.Errorf("the town's order figures %v", got)
	}
	listed := false
	for _, r := range rows {
		if len(r) > 9 && r[1] == o.ID {
			listed = true
			if r[0] != o.Code || r[2] != "交办" || r[4] != "温岭市泽国镇楼下社区" || r[7] != "办理中" || r[8] != "镇级挂牌" || r[9] != "是" {
				t.Errorf("order row %v", r)
			}
		}
	}
	if !listed {
		t.Errorf("order %s is not listed: %v", o.ID, rows)
	}

	// A month not begun yet is refused.
	if _, err := s.Bulletin(ctx, town, time.Now().AddDate(0, 2, 0), nil); fengqiao.ErrorCode(err) != fengqiao.EINVALID {
		t.Errorf("a future month: %v", err)
	}
}

// readTable reads a sheet whose first row is header into rows by their first
// cell (the unit's code), each by the header's names, raw values.
func readTable(t *testing.T, f *excelize.File, sheet string, header []string) map[string]map[string]string {
	t.Helper()
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range header {
		if rows[0][i] != h {
			t.Fatalf("%s: header %v, want %v", sheet, rows[0], header)
		}
	}
	out := map[string]map[string]string{}
	for _, r := range rows[1:] {
		if len(r) < len(header) {
			continue // the notes
		}
		m := map[string]string{}
		for i, h := range header {
			m[h] = r[i]
		}
		out[r[0]] = m
	}
	return out
}

// BenchmarkBulletin gathers and writes the county's bulletin of a month over the
// benchmarks' tally (-tally.events over two years), uncached: 36 figures, for the
// county and its 17 towns, of the month and the month before.
func BenchmarkBulletin(b *testing.B) {
	tally := benchTally(b)
	tree := fengqiao.Wenling()
	month := time.Date(2025, 6, 1, 0, 0, 0, 0, fengqiao.CST)
	for b.Loop() {
		s, err := cockpit.New(tree, tally, nil, time.Minute) // a new cache each time
		if err != nil {
			b.Fatal(err)
		}
		bulletin, err := s.Bulletin(context.Background(), tree.Root().Code, month, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bulletin.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
