package orders_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/audit"
	"fengqiao/orders"
)

const (
	county  = "331081"
	town    = "331081001"    // 太平街道
	village = "331081001003" // 迎辉社区
	other   = "331081002"    // 城东街道
)

// world is a Service over a fixed set of events, an upstream that records what
// it is sent, and a clock the test moves.
type world struct {
	svc      *orders.Service
	audit    *audit.Log
	upstream *recordingUpstream
	events   subjects
	now      time.Time
	mu       sync.Mutex
}

type subjects map[string]*fengqiao.Event

func (s subjects) Events(_ context.Context, subj fengqiao.OrderSubject) ([]*fengqiao.Event, string, error) {
	switch subj.Kind {
	case fengqiao.SubjectEvent:
		if e := s[subj.ID]; e != nil {
			return []*fengqiao.Event{e}, "CH-" + subj.ID, nil
		}
	case fengqiao.SubjectChain:
		var out []*fengqiao.Event
		for _, e := range s {
			if "CH-"+e.ID == subj.ID || subj.ID == "CH-ALL" {
				out = append(out, e)
			}
		}
		if len(out) > 0 {
			return out, subj.ID, nil
		}
	}
	return nil, "", fengqiao.Errorf(fengqiao.ENOTFOUND, "未找到：%s", subj.ID)
}

// recordingUpstream is a 12345-like upstream that honours dispatch keys; it
// fails while down, and refuses work orders it is told to.
type recordingUpstream struct {
	mu       sync.Mutex
	work     map[string]string // dispatch key → its ref
	calls    int
	down     bool
	refuse   string
	received []fengqiao.Dispatch
}

func (u *recordingUpstream) Name() string            { return "hotline12345" }
func (u *recordingUpstream) Title() string           { return "12345政务服务热线" }
func (u *recordingUpstream) Source() fengqiao.Source { return fengqiao.SourceHotline12345 }
func (u *recordingUpstream) Sync(context.Context, string) (*fengqiao.SyncBatch, error) {
	return &fengqiao.SyncBatch{}, nil
}
func (u *recordingUpstream) Fetch(context.Context, string) (*fengqiao.Event, error) { return nil, nil }

func (u *recordingUpstream) Dispatch(_ context.Context, d fengqiao.Dispatch) (fengqiao.Receipt, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls++
	switch {
	case u.down:
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "12345平台暂不可用（503）")
	case u.refuse != "":
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "%s", u.refuse)
	}
	if ref, ok := u.work[d.Key]; ok {
		return fengqiao.Receipt{Ref: ref, Duplicate: true}, nil
	}
	ref := fmt.Sprintf("PD%03d", len(u.work)+1)
	u.work[d.Key] = ref
	u.received = append(u.received, d)
	return fengqiao.Receipt{Ref: ref}, nil
}

func event(id, org string) *fengqiao.Event {
	at := time.Date(2025, 9, 29, 10, 0, 0, 0, fengqiao.CST)
	return &fengqiao.Event{ID: "HOTLINE_12345:" + id, Source: fengqiao.SourceHotline12345, SourceID: id, Kind: fengqiao.KindComplaint, Title: "噪声扰民",
		ReportedAt: at, UpdatedAt: at, Status: fengqiao.StatusReceived, OrgCode: org}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	log, err := audit.Open(filepath.Join(dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	w := &world{audit: log, upstream: &recordingUpstream{work: map[string]string{}}, now: time.Date(2025, 9, 30, 9, 0, 0, 0, fengqiao.CST)}
	evs := subjects{}
	for _, e := range []*fengqiao.Event{event("GD1", village+"1"), event("GD2", other+"001")} {
		evs[e.ID] = e
	}
	w.events = evs
	w.svc, err = orders.Open(filepath.Join(dir, "orders.db"), orders.Config{Tree: fengqiao.Wenling(), Calendar: fengqiao.OfficialCalendar(), Subjects: evs,
		Audit: log, Dispatchers: []fengqiao.Dispatcher{w.upstream}, Now: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.svc.Close() })
	return w
}

func (w *world) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

func as(role fengqiao.Role, org string) context.Context {
	return fengqiao.WithPrincipal(context.Background(), &fengqiao.Principal{ID: string(role) + "@" + org, Name: "测试", Role: role, OrgCode: org})
}

func mustCode(t *testing.T, err error, code string) {
	t.Helper()
	if fengqiao.ErrorCode(err) != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

func issue(t *testing.T, w *world, ctx context.Context, req string) *fengqiao.Order {
	t.Helper()
	o, err := w.svc.Issue(ctx, orders.IssueInput{RequestID: req, Subject: fengqiao.OrderSubject{Kind: fengqiao.SubjectEvent, ID: "HOTLINE_12345:GD1"},
		Kind: fengqiao.OrderAssign, AddresseeOrg: town, WorkingDays: 3, Priority: fengqiao.PriorityUrgent, Listed: fengqiao.ListedCounty, Instructions: "三日内查明噪声来源并反馈"})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestTheLoopFromCountyToVillageAndBack walks a matter down and back up: the
// county assigns it to a town, the town passes it to a village, the village
// feeds back, the town reviews and closes its order and feeds back, the county
// returns it once, then accepts and closes. Each step is its own unit's, shares
// the matter's code, and is audited.
func TestTheLoopFromCountyToVillageAndBack(t *testing.T) {
	w := newWorld(t)
	countyCmd, townCmd, villageStaff := as(fengqiao.RoleCommander, county), as(fengqiao.RoleCommander, town), as(fengqiao.RoleGridStaff, village)

	first := issue(t, w, countyCmd, "r1")
	// Accepted on 2025-09-30 with 3 working days: due at the end of Saturday
	// 2025-10-11, a make-up working day after the National Day week.
	if got := first.Deadline.Format("2006-01-02 15:04"); got != "2025-10-11 23:59" {
		t.Errorf("deadline %s, want 2025-10-11 23:59", got)
	}
	if !strings.HasPrefix(first.Code, "JF20250930-") || first.ID != first.Code+"-1" || first.State != fengqiao.OrderOpen {
		t.Fatalf("first order %+v", first)
	}
	if again := issue(t, w, countyCmd, "r1"); again.ID != first.ID || len(again.Steps) != 1 {
		t.Fatalf("a retried request made %+v, want the same order unchanged", again)
	}

	// Only the addressee passes down, feeds back; only the issuer reviews.
	_, err := w.svc.Feedback(villageStaff, orders.StepInput{RequestID: "x", OrderID: first.ID, Note: "已处理"})
	mustCode(t, err, fengqiao.ENOTFOUND) // the village does not see the county's order to the town
	_, err = w.svc.PassDown(as(fengqiao.RoleCommander, other), orders.PassDownInput{RequestID: "x", OrderID: first.ID, AddresseeOrg: other + "001", WorkingDays: 1})
	mustCode(t, err, fengqiao.ENOTFOUND)
	_, err = w.svc.PassDown(townCmd, orders.PassDownInput{RequestID: "p0", OrderID: first.ID, AddresseeOrg: village, WorkingDays: 10})
	mustCode(t, err, fengqiao.EINVALID) // later than the county's deadline

	child, err := w.svc.PassDown(townCmd, orders.PassDownInput{RequestID: "p1", OrderID: first.ID, AddresseeOrg: village, WorkingDays: 2, Instructions: "请村里核实"})
	if err != nil {
		t.Fatal(err)
	}
	if child.Code != first.Code || child.ParentID != first.ID || child.IssuerOrg != town || child.Listed != fengqiao.ListedCounty {
		t.Fatalf("child %+v", child)
	}
	if _, err := w.svc.Feedback(villageStaff, orders.StepInput{RequestID: "f1", OrderID: child.ID, Note: "已约谈商户，夜间停工", Links: []string{"https://files.example/1.jpg"}}); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Accept(villageStaff, orders.StepInput{RequestID: "a0", OrderID: child.ID})
	mustCode(t, err, fengqiao.EFORBIDDEN)
	if _, err := w.svc.Accept(townCmd, orders.StepInput{RequestID: "a1", OrderID: child.ID}); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.CloseOrder(countyCmd, orders.StepInput{RequestID: "c0", OrderID: child.ID})
	mustCode(t, err, fengqiao.EFORBIDDEN) // the county did not issue the town's order

	if _, err := w.svc.Feedback(townCmd, orders.StepInput{RequestID: "f2", OrderID: first.ID, Note: "村里已处理完毕"}); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Return(countyCmd, orders.StepInput{RequestID: "b0", OrderID: first.ID})
	mustCode(t, err, fengqiao.EINVALID) // a return needs its reasons
	if o, err := w.svc.Return(countyCmd, orders.StepInput{RequestID: "b1", OrderID: first.ID, Note: "请附群众满意度回访"}); err != nil || o.State != fengqiao.OrderReturned {
		t.Fatalf("return: %+v, %v", o, err)
	}
	if _, err := w.svc.Feedback(townCmd, orders.StepInput{RequestID: "f3", OrderID: first.ID, Note: "已回访，群众满意"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Accept(countyCmd, orders.StepInput{RequestID: "a2", OrderID: first.ID}); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.CloseOrder(countyCmd, orders.StepInput{RequestID: "c1", OrderID: first.ID})
	mustCode(t, err, fengqiao.EINVALID) // the town's order to the village is still open
	if _, err := w.svc.CloseOrder(townCmd, orders.StepInput{RequestID: "c2", OrderID: child.ID}); err != nil {
		t.Fatal(err)
	}
	closed, err := w.svc.CloseOrder(countyCmd, orders.StepInput{RequestID: "c1", OrderID: first.ID})
	if err != nil || closed.State != fengqiao.OrderClosed || closed.ClosedAt == nil {
		t.Fatalf("close: %+v, %v", closed, err)
	}
	var actions []string
	for _, s := range closed.Steps {
		actions = append(actions, string(s.Action))
	}
	if got := strings.Join(actions, " "); got != "ISSUE PASS_DOWN FEEDBACK RETURN FEEDBACK ACCEPT CLOSE" {
		t.Errorf("timeline %s", got)
	}

	matter, err := w.svc.Matter(countyCmd, first.Code)
	if err != nil || len(matter) != 2 || matter[0].ID != first.ID || matter[1].ID != child.ID {
		t.Fatalf("matter %v: %v", matter, err)
	}
	if code := w.svc.MatterCode(fengqiao.OrderSubject{Kind: fengqiao.SubjectChain, ID: "CH-HOTLINE_12345:GD1"}); code != first.Code {
		t.Errorf("the chain's code %q, want the matter's %q", code, first.Code)
	}
	entries, _, err := w.audit.Entries(context.Background(), fengqiao.AuditFilter{}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]int{}
	for _, e := range entries {
		audited[e.Action]++
	}
	if audited["工单交办"] != 1 || audited["工单转办"] != 1 || audited["工单反馈"] != 3 || audited["工单退回"] != 1 || audited["工单审核通过"] != 2 || audited["工单销号"] != 2 {
		t.Errorf("audited %v", audited)
	}

	f, err := w.svc.Figures(county, w.now.Add(-time.Hour), w.now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if f != (orders.Figures{Issued: 2, Closed: 2, OnTime: 2, Returned: 1, Listed: 2}) {
		t.Errorf("county figures %+v", f)
	}
	if f, _ := w.svc.Figures(village, w.now.Add(-time.Hour), w.now.Add(time.Hour)); f.Issued != 1 {
		t.Errorf("village figures %+v", f)
	}
}

// TestWhoMayIssue: only commanders and analysts, on their own subtree's matters,
// to units strictly below them, with a request id and a deadline.
func TestWhoMayIssue(t *testing.T) {
	w := newWorld(t)
	gd1 := fengqiao.OrderSubject{Kind: fengqiao.SubjectEvent, ID: "HOTLINE_12345:GD1"}
	for _, c := range []struct {
		name string
		ctx  context.Context
		in   orders.IssueInput
		code string
	}{
		{"grid staff", as(fengqiao.RoleGridStaff, town), orders.IssueInput{RequestID: "1", Subject: gd1, Kind: fengqiao.OrderAssign, AddresseeOrg: village, WorkingDays: 1}, fengqiao.EFORBIDDEN},
		{"auditor", as(fengqiao.RoleAuditor, county), orders.IssueInput{RequestID: "1", Subject: gd1, Kind: fengqiao.OrderAssign, AddresseeOrg: town, WorkingDays: 1}, fengqiao.EFORBIDDEN},
		{"another town's matter", as(fengqiao.RoleCommander, other), orders.IssueInput{RequestID: "1", Subject: gd1, Kind: fengqiao.OrderAssign, AddresseeOrg: other + "001", WorkingDays: 1}, fengqiao.ENOTFOUND},
		{"to itself", as(fengqiao.RoleCommander, town), orders.IssueInput{RequestID: "1", Subject: gd1, Kind: fengqiao.OrderAssign, AddresseeOrg: town, WorkingDays: 1}, fengqiao.EINVALID},
		{"upwards", as(fengqiao.RoleCommander, town), orders.IssueInput{RequestID: "1", Subject: gd1, Kind: fengqiao.OrderAssign, AddresseeOrg: county, WorkingDays: 1}, fengqiao.EINVALID},
		{"sideways", as(fengqiao.RoleCommander, town), orders.IssueInput{RequestID: "1", Subject: gd1, Kind: fengqiao.OrderAssign, AddresseeOrg: other, WorkingDays: 1}, fengqiao.EINVALID},
		{"no request id", as(fengqiao.RoleCommander, county), orders.IssueInput{Subject: gd1, Kind: fengqiao.OrderAssign, AddresseeOrg: town, WorkingDays: 1}, fengqiao.EINVALID},
		{"no deadline", as(fengqiao.RoleCommander, county), orders.IssueInput{RequestID: "1", Subject: gd1, Kind: fengqiao.OrderAssign, AddresseeOrg: town}, fengqiao.EINVALID},
		{"unknown kind", as(fengqiao.RoleCommander, county), orders.IssueInput{RequestID: "1", Subject: gd1, Kind: "ORDER", AddresseeOrg: town, WorkingDays: 1}, fengqiao.EINVALID},
		{"no such event", as(fengqiao.RoleCommander, county), orders.IssueInput{RequestID: "1", Subject: fengqiao.OrderSubject{Kind: fengqiao.SubjectEvent, ID: "X"}, Kind: fengqiao.OrderAssign, AddresseeOrg: town, WorkingDays: 1}, fengqiao.ENOTFOUND},
		{"no one", context.Background(), orders.IssueInput{RequestID: "1", Subject: gd1, Kind: fengqiao.OrderAssign, AddresseeOrg: town, WorkingDays: 1}, fengqiao.EUNAUTHORIZED},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.svc.Issue(c.ctx, c.in)
			mustCode(t, err, c.code)
			if fengqiao.ErrorMessage(err) == "" || !strings.ContainsFunc(fengqiao.ErrorMessage(err), func(r rune) bool { return r >= 0x4e00 }) {
				t.Errorf("message %q is not Chinese", fengqiao.ErrorMessage(err))
			}
		})
	}
	if o, err := w.svc.Issue(as(fengqiao.RoleAnalyst, town), orders.IssueInput{RequestID: "ok", Subject: gd1, Kind: fengqiao.OrderSupervise, AddresseeOrg: village, WorkingDays: 1}); err != nil || o.IssuerOrg != town {
		t.Fatalf("a town analyst supervising a village: %+v, %v", o, err)
	}
}

// TestOverdueOrdersEscalateToTheAddresseesParent: an order past its deadline
// without feedback is raised once to the addressee's parent, which then sees
// it, and a subscriber hears of it.
func TestOverdueOrdersEscalateToTheAddresseesParent(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	notices := w.svc.Subscribe(ctx)
	o, err := w.svc.Issue(as(fengqiao.RoleCommander, town), orders.IssueInput{RequestID: "1", Subject: fengqiao.OrderSubject{Kind: fengqiao.SubjectEvent, ID: "HOTLINE_12345:GD1"},
		Kind: fengqiao.OrderAssign, AddresseeOrg: village, WorkingDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if n := <-notices; n.Order.ID != o.ID || n.Action != fengqiao.ActionIssue || n.Order.AddresseeOrg != village {
		t.Fatalf("notice %+v", n)
	}
	if n, _ := w.svc.Escalate(ctx); n != 0 {
		t.Fatalf("escalated %d before the deadline", n)
	}
	w.advance(12 * 24 * time.Hour) // past 2025-10-09, the first working day after the holiday
	if n, err := w.svc.Escalate(ctx); n != 1 || err != nil {
		t.Fatalf("escalated %d, %v", n, err)
	}
	if n, _ := w.svc.Escalate(ctx); n != 0 {
		t.Fatalf("escalated again: %d", n)
	}
	got, _ := w.svc.Order(as(fengqiao.RoleCommander, town), o.ID)
	if got.EscalatedTo != town || !got.Overdue(w.clock()) || got.Steps[len(got.Steps)-1].Action != fengqiao.ActionEscalate {
		t.Fatalf("after escalation %+v", got)
	}
	if n := <-notices; n.Action != fengqiao.ActionEscalate {
		t.Fatalf("notice %+v, want the escalation", n)
	}
	overdue, _ := w.svc.Orders(as(fengqiao.RoleCommander, county), orders.OrderFilter{Overdue: true}, 10)
	if len(overdue) != 1 {
		t.Fatalf("the county's overdue list %v", overdue)
	}
	if f, _ := w.svc.Figures(town, o.CreatedAt, o.CreatedAt.Add(time.Hour)); f.Overdue != 1 || f.Open != 1 {
		t.Errorf("figures %+v", f)
	}
}
