package mediation

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// testUpstream is the client config of these tests: short timeouts, quick retries.
var testUpstream = connectors.UpstreamConfig{Timeout: 200 * time.Millisecond, RetryMax: 3, RetryWaitMin: time.Millisecond,
	RetryWaitMax: 5 * time.Millisecond, BreakerFailures: 3, BreakerCooldown: 100 * time.Millisecond}

// ledger is the mediation simulator on loopback, the connector to it and its world.
type ledger struct {
	sim   *sim.Mediation
	conn  *Connector
	world *world.World
}

func newLedger(t *testing.T) *ledger {
	t.Helper()
	w := world.Generate(world.Config{Seed: 4, Scale: 0.002, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST)})
	s := sim.NewMediation(w, "fengqiao", "secret")
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &ledger{sim: s, world: w, conn: New(Config{BaseURL: srv.URL, AppID: "fengqiao", Secret: "secret", Upstream: testUpstream}, nil)}
}

// cases returns n sound cases whose status is one of statuses.
func (l *ledger) cases(t *testing.T, n int, statuses ...string) []*world.MediationCase {
	t.Helper()
	var out []*world.MediationCase
	for _, c := range l.world.Mediation {
		for _, s := range statuses {
			if c.Malformed == "" && c.CaseStatus == s && len(out) < n {
				out = append(out, c)
			}
		}
	}
	if len(out) < n {
		t.Fatalf("the world has %d cases %v, want %d", len(out), statuses, n)
	}
	return out
}

func assign(c *world.MediationCase, key string) fengqiao.Dispatch {
	return fengqiao.Dispatch{Key: key, Action: fengqiao.ActionIssue, OrderCode: "JF-" + key, OrderKind: fengqiao.OrderAssign,
		SourceID: c.CaseNo, OrgCode: c.GridCode[:12], Department: "人民调解委员会", Deadline: time.Date(2026, 12, 4, 17, 30, 0, 0, fengqiao.CST),
		Priority: fengqiao.PriorityCritical, Instructions: "请组织双方调解并反馈"}
}

// Every other answer of the ledger is lost, a create's included: the ledger
// would make a second task for a repeated create, but the connector looks the
// business number up before each attempt, and each case gets one task.
func TestDispatchOnceWhenAnswersAreLost(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	l.sim.Set(sim.Faults{DropRate: 0.5})
	ctx := context.Background()
	duplicates := 0
	for i, c := range l.cases(t, 4, "已受理", "调解中") {
		d := assign(c, "ORD-"+string(rune('A'+i))+"/mediation")
		r, err := l.conn.Dispatch(ctx, d)
		if err != nil {
			t.Fatalf("dispatch %s: %v", c.CaseNo, err)
		}
		if got := l.sim.Tasks(d.Key, ""); len(got) != 1 || got[0].TaskID != r.Ref || got[0].CaseNo != c.CaseNo || !strings.HasPrefix(r.Ref, "RW") {
			t.Fatalf("%s: tasks %+v, receipt %+v", c.CaseNo, got, r)
		}
		if r.Duplicate {
			duplicates++
		}
		// The outbox delivers again (it crashed before recording the receipt).
		again, err := l.conn.Dispatch(ctx, d)
		if err != nil || again.Ref != r.Ref || !again.Duplicate || len(l.sim.Tasks(d.Key, "")) != 1 {
			t.Fatalf("again: %+v %v, tasks %+v", again, err, l.sim.Tasks(d.Key, ""))
		}
	}
	if duplicates == 0 {
		t.Fatal("no create's answer was lost: the test does not test")
	}
}

// Slow acknowledgements: the client gives up on every answer, its lookups' as
// well as its create's (the ledger may have made the task meanwhile). The outbox
// tries later, and the case has one task.
func TestDispatchOnceWhenTheAnswerIsLate(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	c := l.cases(t, 1, "已受理", "调解中")[0]
	l.sim.Set(sim.Faults{AckDelay: 2 * testUpstream.Timeout})
	ctx, cancel := context.WithTimeout(context.Background(), 3*testUpstream.Timeout/2)
	defer cancel()
	if _, err := l.conn.Dispatch(ctx, assign(c, "ORD-1")); fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
		t.Fatalf("late answers: %v, want EUNAVAILABLE", err)
	}
	l.sim.Set(sim.Faults{})
	time.Sleep(testUpstream.BreakerCooldown + 20*time.Millisecond)
	r, err := l.conn.Dispatch(context.Background(), assign(c, "ORD-1"))
	if got := l.sim.Tasks("ORD-1", ""); err != nil || len(got) != 1 || got[0].TaskID != r.Ref {
		t.Fatalf("later: %+v %v, tasks %+v", r, err, got)
	}
}

func TestDispatchRefused(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	ctx := context.Background()
	open, closed := l.cases(t, 1, "调解中")[0], l.cases(t, 1, "调解成功")[0]
	for name, c := range map[string]struct {
		d      fengqiao.Dispatch
		reason string
	}{
		"closed":       {assign(closed, "K1"), "案件已办结（调解成功），不能交办（4005）"},
		"unknown":      {func() fengqiao.Dispatch { d := assign(open, "K2"); d.SourceID = "TJ0"; return d }(), "案件不存在（4004）"},
		"county":       {func() fengqiao.Dispatch { d := assign(open, "K3"); d.OrgCode = "331081"; return d }(), "承办单位编码无效：331081"},
		"no text":      {func() fengqiao.Dispatch { d := assign(open, "K4"); d.Instructions, d.Department = "", ""; return d }(), "请求参数错误"},
		"not an order": {func() fengqiao.Dispatch { d := assign(open, "K5"); d.Action = fengqiao.ActionAccept; return d }(), "不接收该步骤"},
	} {
		_, err := l.conn.Dispatch(ctx, c.d)
		if fengqiao.ErrorCode(err) != fengqiao.EINVALID || !strings.Contains(fengqiao.ErrorMessage(err), c.reason) {
			t.Errorf("%s: %v, want EINVALID with %q", name, err, c.reason)
		}
	}
	if got := l.sim.Tasks("", open.CaseNo); len(got) != 0 {
		t.Fatalf("refused, yet tasks %+v", got)
	}
}

func TestDispatchUnavailable(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	c := l.cases(t, 1, "调解中")[0]
	l.sim.Set(sim.Faults{Down: true})
	if _, err := l.conn.Dispatch(context.Background(), assign(c, "K1")); fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
		t.Fatalf("down: %v, want EUNAVAILABLE", err)
	}
	l.sim.Set(sim.Faults{})
	time.Sleep(testUpstream.BreakerCooldown + 20*time.Millisecond)
	badSecret := New(Config{BaseURL: l.conn.cfg.BaseURL, AppID: "fengqiao", Secret: "nope", Upstream: testUpstream}, nil)
	if _, err := badSecret.Dispatch(context.Background(), assign(c, "K1")); fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE ||
		!strings.Contains(fengqiao.ErrorMessage(err), "接入凭据") {
		t.Fatalf("bad signature: %v, want EUNAVAILABLE naming the credentials", err)
	}
	if got := l.sim.Tasks("", c.CaseNo); len(got) != 0 {
		t.Fatalf("tasks %+v", got)
	}
	// A caller that gives up ends the attempts at once.
	l.sim.Set(sim.Faults{ErrorRate: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.conn.Dispatch(ctx, assign(c, "K1")); fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
		t.Fatalf("5xx: %v, want EUNAVAILABLE", err)
	}
}

// syncSince reads every case modified since t, the latest version of each.
func syncSince(t *testing.T, c *Connector, since time.Time) map[string]*fengqiao.Event {
	t.Helper()
	out := map[string]*fengqiao.Event{}
	cursor := connectors.TimeCursor{Since: since, Page: 1}.String()
	for range 100 {
		b, err := c.Sync(context.Background(), cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Events {
			out[e.SourceID] = e
		}
		if cursor = b.Next; !b.More {
			return out
		}
	}
	t.Fatal("sync did not end")
	return nil
}

// The task, and the case's settlement, come back through the connector's sync:
// 已交办 with the 解纷码, then 调解成功.
func TestDispatchComesBackThroughSync(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	c := l.cases(t, 1, "已受理", "调解中")[0]
	before := time.Now().Add(-time.Second)
	d := assign(c, "ORD-000123/mediation")
	if _, err := l.conn.Dispatch(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	e := syncSince(t, l.conn, before)[c.CaseNo]
	if e == nil || e.Status != fengqiao.StatusDispatched || e.OrderCode != d.OrderCode || e.OrgCode != c.GridCode {
		t.Fatalf("after the task: %+v", e)
	}
	if err := e.Validate(l.world.Tree); err != nil {
		t.Fatal(err)
	}
	if err := l.sim.Complete(c.CaseNo, "双方达成调解协议"); err != nil {
		t.Fatal(err)
	}
	done := syncSince(t, l.conn, e.UpdatedAt)[c.CaseNo]
	if done == nil || done.Status != fengqiao.StatusResolved || done.OrderCode != d.OrderCode || done.ResolvedAt == nil || !done.UpdatedAt.After(e.UpdatedAt) {
		t.Fatalf("after settlement: %+v", done)
	}
	if got := l.sim.Tasks(d.Key, ""); len(got) != 1 || got[0].TaskStatus != "已办结" {
		t.Fatalf("tasks after settlement: %+v", got)
	}
}
