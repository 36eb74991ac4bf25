package hotline12345

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

// platform is the 12345 simulator on loopback, the connector to it and its world.
type platform struct {
	sim   *sim.Hotline12345
	conn  *Connector
	world *world.World
}

func newPlatform(t *testing.T) *platform {
	t.Helper()
	w := world.Generate(world.Config{Seed: 4, Scale: 0.002, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST)})
	s := sim.NewHotline12345(w, "key")
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &platform{sim: s, world: w, conn: New(Config{BaseURL: srv.URL, APIKey: "key", Upstream: testUpstream}, nil)}
}

// orders returns n sound work orders whose status is one of statuses.
func (p *platform) orders(t *testing.T, n int, statuses ...string) []*world.HotlineOrder {
	t.Helper()
	var out []*world.HotlineOrder
	for _, o := range p.world.Hotline {
		for _, s := range statuses {
			if o.Malformed == "" && o.BLZT == s && len(out) < n {
				out = append(out, o)
			}
		}
	}
	if len(out) < n {
		t.Fatalf("the world has %d work orders %v, want %d", len(out), statuses, n)
	}
	return out
}

func assign(o *world.HotlineOrder, key string) fengqiao.Dispatch {
	return fengqiao.Dispatch{Key: key, Action: fengqiao.ActionIssue, OrderCode: "JF-" + key, OrderKind: fengqiao.OrderAssign,
		SourceID: o.GDBH, OrgCode: o.QHDM[:9], Deadline: time.Date(2026, 12, 4, 17, 30, 0, 0, fengqiao.CST),
		Priority: fengqiao.PriorityUrgent, Instructions: "请于期限内核实处理并反馈"}
}

// Each answer of the platform is lost once, every other request: the connector
// retries under the same request id, and each work order is dispatched once.
func TestDispatchOnceWhenAnswersAreLost(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	p.sim.Set(sim.Faults{DropRate: 0.5})
	ctx := context.Background()
	duplicates := 0
	for i, o := range p.orders(t, 4, "待受理", "办理中") {
		d := assign(o, "ORD-"+string(rune('A'+i)))
		r, err := p.conn.Dispatch(ctx, d)
		if err != nil {
			t.Fatalf("dispatch %s: %v", o.GDBH, err)
		}
		if got := p.sim.Dispatched(o.GDBH); len(got) != 1 || got[0] != r.Ref || !strings.HasPrefix(r.Ref, "PD") {
			t.Fatalf("%s: dispatched %v, receipt %+v", o.GDBH, got, r)
		}
		if r.Duplicate {
			duplicates++
		}
		// The outbox delivers again (it crashed before recording the receipt).
		again, err := p.conn.Dispatch(ctx, d)
		if err != nil || again.Ref != r.Ref || !again.Duplicate || len(p.sim.Dispatched(o.GDBH)) != 1 {
			t.Fatalf("again: %+v %v, dispatched %v", again, err, p.sim.Dispatched(o.GDBH))
		}
	}
	if duplicates == 0 {
		t.Fatal("no answer was lost: the test does not test")
	}
}

// A slow acknowledgement: the client gives up while the platform dispatches.
// The outbox tries later and learns of the first dispatch.
func TestDispatchOnceWhenTheAnswerIsLate(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	o := p.orders(t, 1, "待受理", "办理中")[0]
	p.sim.Set(sim.Faults{AckDelay: 2 * testUpstream.Timeout})
	ctx, cancel := context.WithTimeout(context.Background(), 3*testUpstream.Timeout/2)
	defer cancel()
	_, err := p.conn.Dispatch(ctx, assign(o, "ORD-1"))
	if fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
		t.Fatalf("late answers: %v, want EUNAVAILABLE", err)
	}
	p.sim.Set(sim.Faults{})
	time.Sleep(testUpstream.BreakerCooldown + 20*time.Millisecond)
	r, err := p.conn.Dispatch(context.Background(), assign(o, "ORD-1"))
	if got := p.sim.Dispatched(o.GDBH); err != nil || !r.Duplicate || len(got) != 1 || got[0] != r.Ref {
		t.Fatalf("later: %+v %v, dispatched %v", r, err, got)
	}
}

func TestDispatchRefused(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	ctx := context.Background()
	open, closed := p.orders(t, 1, "办理中")[0], p.orders(t, 1, "已办结")[0]
	for name, c := range map[string]struct {
		d      fengqiao.Dispatch
		reason string
	}{
		"closed":       {assign(closed, "K1"), "工单已办结，不能派发"},
		"unknown":      {func() fengqiao.Dispatch { d := assign(open, "K2"); d.SourceID = "GD0"; return d }(), "工单不存在"},
		"county":       {func() fengqiao.Dispatch { d := assign(open, "K3"); d.OrgCode = "331081"; return d }(), "承办单位代码无效：331081"},
		"not an order": {func() fengqiao.Dispatch { d := assign(open, "K4"); d.Action = fengqiao.ActionClose; return d }(), "不接收该步骤"},
		"no deadline":  {func() fengqiao.Dispatch { d := assign(open, "K5"); d.Deadline = time.Time{}; return d }(), "缺少办理期限"},
	} {
		_, err := p.conn.Dispatch(ctx, c.d)
		if fengqiao.ErrorCode(err) != fengqiao.EINVALID || !strings.Contains(fengqiao.ErrorMessage(err), c.reason) {
			t.Errorf("%s: %v, want EINVALID with %q", name, err, c.reason)
		}
	}
	if got := p.sim.Dispatched(open.GDBH); len(got) != 0 {
		t.Fatalf("refused, yet dispatched %v", got)
	}
	// 督办 of a work order the platform has finished is refused in its words too.
	d := assign(closed, "K6")
	d.OrderKind = fengqiao.OrderSupervise
	if _, err := p.conn.Dispatch(ctx, d); fengqiao.ErrorCode(err) != fengqiao.EINVALID || !strings.Contains(fengqiao.ErrorMessage(err), "不能督办") {
		t.Fatalf("supervise a closed order: %v", err)
	}
}

func TestDispatchUnavailable(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	o := p.orders(t, 1, "办理中")[0]
	p.sim.Set(sim.Faults{Down: true})
	if _, err := p.conn.Dispatch(context.Background(), assign(o, "K1")); fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
		t.Fatalf("down: %v, want EUNAVAILABLE", err)
	}
	p.sim.Set(sim.Faults{ErrorRate: 1})
	if _, err := p.conn.Dispatch(context.Background(), assign(o, "K1")); fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
		t.Fatalf("5xx: %v, want EUNAVAILABLE", err)
	}
	p.sim.Set(sim.Faults{})
	wrongKey := New(Config{BaseURL: p.conn.cfg.BaseURL, APIKey: "nope", Upstream: testUpstream}, nil)
	if _, err := wrongKey.Dispatch(context.Background(), assign(o, "K1")); fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE ||
		!strings.Contains(fengqiao.ErrorMessage(err), "接入凭据") {
		t.Fatalf("wrong key: %v, want EUNAVAILABLE naming the credentials", err)
	}
	if got := p.sim.Dispatched(o.GDBH); len(got) != 0 {
		t.Fatalf("dispatched %v", got)
	}
}

// syncSince reads every work order updated since t, the latest version of each.
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

// The dispatch, and the platform's completion of the work, come back through
// the connector's sync: 已派单 with the 解纷码, then 已办结.
func TestDispatchComesBackThroughSync(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	o := p.orders(t, 1, "待受理")[0]
	before := time.Now().Add(-time.Second)
	d := assign(o, "ORD-000123/hotline12345")
	if _, err := p.conn.Dispatch(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	e := syncSince(t, p.conn, before)[o.GDBH]
	if e == nil || e.Status != fengqiao.StatusDispatched || e.OrderCode != d.OrderCode || e.HandlingLevel != fengqiao.HandlingTown ||
		e.Deadline == nil || !e.Deadline.Equal(d.Deadline) || e.OrgCode != o.QHDM {
		t.Fatalf("after dispatch: %+v", e)
	}
	if err := e.Validate(p.world.Tree); err != nil {
		t.Fatal(err)
	}
	if err := p.sim.Complete(o.GDBH, "已协调相关部门处理完毕"); err != nil {
		t.Fatal(err)
	}
	done := syncSince(t, p.conn, e.UpdatedAt)[o.GDBH]
	if done == nil || done.Status != fengqiao.StatusResolved || done.OrderCode != d.OrderCode || done.ResolvedAt == nil ||
		done.Outcome != "已协调相关部门处理完毕" || !done.UpdatedAt.After(e.UpdatedAt) {
		t.Fatalf("after completion: %+v", done)
	}
	if live, err := p.conn.Fetch(context.Background(), o.GDBH); err != nil || live.OrderCode != d.OrderCode || live.Status != fengqiao.StatusResolved {
		t.Fatalf("live read: %+v %v", live, err)
	}
}
