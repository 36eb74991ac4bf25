package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestOrdersPageInChromium walks an order's closed loop through the reference
// cockpit, each unit in its own tab: the county commander issues a 挂牌督办 order
// on an event of 泽国镇 to the town; the town hears of it at once and passes it
// down to its village; the village's first feedback is refused for want of a
// note (the message in Chinese, the request id kept for the retry), then sent;
// the town returns it, the village feeds back again, the town accepts and
// closes it and feeds back to the county, which accepts and closes. The
// timeline shows every step, the figures count them, and an order past its
// deadline (the hub's clock moved on, then its escalation run) is red on the
// cockpits above it and tells the town it was raised to it.
func TestOrdersPageInChromium(t *testing.T) {
	browser := chromiumPath(t)
	var clock offsetClock
	base, tokens, hub := startDemoHubWithClock(t, clock.Now)
	var me struct {
		Me struct{ OrgUnit struct{ Code string } }
	}
	graphQL(t, base, tokens["village"], `{ me { orgUnit { code } } }`, &me)
	village := me.Me.OrgUnit.Code

	county := newBrowser(t, browser, "县指挥长", 4*time.Minute)
	county.open(base, tokens["county"], "331081")
	town := county.tab("泽国镇分析员")
	town.open(base, tokens["town"], "331081100")
	vil := county.tab("村网格员")
	vil.open(base, tokens["village"], village)
	for _, p := range []*page{county, town, vil} {
		p.do("订阅工单提醒", chromedp.WaitVisible(chromedp.CSS(`body[data-listening]`)))
	}

	// The county drills into 泽国镇, finds an event there and issues an order on it.
	// Court filings and 110 calls take no work from the hub, so no upstream
	// completes the order on its own.
	subject := quietEvent(t, base, tokens["county"], "331081100", 0)
	county.do("下钻到泽国镇",
		chromedp.Click(chromedp.CSS(`#units .unit[data-org="331081100"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#orders-panel[data-loaded="331081100"]`)),
	)
	issue := `#results [data-issue="EVENT:` + subject.ID + `"]`
	county.do("搜索事件",
		chromedp.SetValue(chromedp.CSS(`#q`), `"`+subject.Title+`"`),
		chromedp.Click(chromedp.CSS(`#go`)),
		chromedp.WaitVisible(chromedp.CSS(issue)),
	)
	county.do("交办",
		chromedp.Click(chromedp.CSS(issue)),
		chromedp.WaitVisible(chromedp.CSS(`#issue-dialog[open]`)),
		chromedp.SetValue(chromedp.CSS(`#issue-addressee`), "331081100"),
		chromedp.SetValue(chromedp.CSS(`#issue-listed`), "TOWN"),
		chromedp.SetValue(chromedp.CSS(`#issue-instructions`), "请核实情况，依法处置，按期反馈"),
		chromedp.Click(chromedp.CSS(`#issue-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#order-panel[data-state="OPEN"]`)),
	)
	order := eval[string](county, `document.getElementById("order-panel").dataset.current`)
	if code := county.text("#order-head .matter"); !strings.Contains(code, strings.TrimSuffix(order, "-1")) {
		t.Errorf("the order %s shows the 解纷码 %q", order, code)
	}

	// The town is told at once, and passes the order down to the village.
	town.openNotice(order, "ISSUE")
	town.do("转办",
		chromedp.Click(chromedp.CSS(`#order-actions [data-act="passDown"]`)),
		chromedp.SetValue(chromedp.CSS(`#pass-addressee`), village),
		chromedp.SetValue(chromedp.CSS(`#pass-instructions`), "请村里上门核实，三日内反馈"),
		chromedp.Click(chromedp.CSS(`#order-actions button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#order-children [data-order]`)),
	)
	child := eval[string](town, `document.querySelector("#order-children [data-order]").dataset.order`)

	// The village feeds back: without a note the hub refuses, in Chinese, and the
	// retry of the same click sends the same request id.
	vil.openNotice(child, "PASS_DOWN")
	vil.do("空反馈",
		chromedp.Click(chromedp.CSS(`#order-actions [data-act="feedback"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#order-actions form`)),
	)
	requestID := eval[string](vil, `document.querySelector("#order-actions form").dataset.requestId`)
	vil.do("空反馈", chromedp.Click(chromedp.CSS(`#order-actions button[type=submit]`)))
	vil.waitUntil("反馈被拒", `document.querySelector("#order-actions .error").textContent.includes("请填写反馈内容")`)
	if again := eval[string](vil, `document.querySelector("#order-actions form").dataset.requestId`); again != requestID || requestID == "" {
		t.Errorf("the retry's request id is %q, the click's was %q", again, requestID)
	}
	vil.submitStep("反馈", "已上门核实，双方达成初步和解", "FED_BACK")

	// The town returns it once, the village feeds back again, the town accepts
	// and closes it, then feeds back on the county's order.
	town.openNotice(child, "FEEDBACK")
	town.step("return", "退回", "请附调解协议", "RETURNED")
	vil.openNotice(child, "RETURN")
	vil.step("feedback", "反馈", "已签订调解协议，见附件", "FED_BACK")
	town.openNotice(child, "FEEDBACK")
	town.step("accept", "审核通过", "", "ACCEPTED")
	town.step("close", "销号", "", "CLOSED")
	town.do("打开上级工单",
		chromedp.Click(chromedp.CSS(`#order-parent [data-order]`)),
		chromedp.WaitVisible(chromedp.CSS(`#order-panel[data-current="`+order+`"][data-state="OPEN"]`)),
	)
	town.step("feedback", "反馈", "经村调解，矛盾已化解", "FED_BACK")

	// The county accepts and closes; the timeline shows every step.
	county.openNotice(order, "FEEDBACK")
	county.step("accept", "审核通过", "同意", "ACCEPTED")
	county.step("close", "销号", "", "CLOSED")
	steps := eval[[]string](county, `[...document.querySelectorAll("#order-steps li")].map(li => li.dataset.action)`)
	steps = slices.DeleteFunc(steps, func(a string) bool { return a == "DELIVERED" || a == "UPSTREAM" })
	if want := []string{"ISSUE", "PASS_DOWN", "FEEDBACK", "ACCEPT", "CLOSE"}; !slices.Equal(steps, want) {
		t.Errorf("the county's timeline = %v, want %v", steps, want)
	}
	timeline := county.text("#order-steps")
	for _, name := range []string{"交办", "转办", "反馈", "审核通过", "销号", "泽国镇", "经村调解，矛盾已化解"} {
		if !strings.Contains(timeline, name) {
			t.Errorf("the timeline has no %q:\n%s", name, timeline)
		}
	}
	if n := eval[int](county, `document.querySelectorAll("#matter-orders [data-order]").length`); n != 2 {
		t.Errorf("the matter lists %d orders, want 2", n)
	}
	county.do("打开转办工单", chromedp.Click(chromedp.CSS(`#order-children [data-order]`)),
		chromedp.WaitVisible(chromedp.CSS(`#order-panel[data-current="`+child+`"]`)))
	childSteps := county.text("#order-steps")
	for _, name := range []string{"转办", "退回", "请附调解协议", "审核通过", "销号"} {
		if !strings.Contains(childSteps, name) {
			t.Errorf("the passed-down order's timeline has no %q:\n%s", name, childSteps)
		}
	}
	county.figures("issued 2, closed 2, on time 2, returned 1, listed 2", map[string]int{"issued": 2, "closed": 2, "onTime": 2, "returned": 1, "listed": 2, "overdue": 0, "open": 0})
	if n := eval[int](county, `document.querySelectorAll("#listed-orders [data-order]").length`); n != 2 {
		t.Errorf("the 挂牌督办 list has %d orders, want 2", n)
	}

	// An order past its deadline: issued to the village with one working day;
	// then the hub's clock moves past the deadline and the hub escalates it.
	var issued struct {
		IssueOrder struct {
			ID       string
			Deadline time.Time
		}
	}
	graphQL(t, base, tokens["county"], fmt.Sprintf(`mutation { issueOrder(input: {requestId: "overdue-1", subjectKind: EVENT, subjectId: %q,
		kind: SUPERVISE, addresseeOrg: %q, workingDays: 1, instructions: "限一个工作日内处置"}) { id deadline } }`, quietEvent(t, base, tokens["county"], "331081100", 1).ID, village), &issued)
	late := issued.IssueOrder.ID
	clock.set(time.Until(issued.IssueOrder.Deadline) + time.Hour)
	if _, err := hub.Orders.Escalate(context.Background()); err != nil { // or the hub's own minutely run did
		t.Fatal(err)
	}
	town.waitUntil("逾期升级提醒", `!!document.querySelector('#notices li[data-order="`+late+`"][data-action="ESCALATE"]')`)
	for _, p := range []*page{county, town} {
		p.waitUntil("逾期数标红", `document.querySelector("#of-overdue.red b")?.textContent === "1"`)
		p.waitUntil("逾期清单标红", `!!document.querySelector('#overdue-orders li.overdue[data-order="`+late+`"] .red')`)
	}
	county.waitUntil("村社块标红", `!!document.querySelector('#units .unit[data-org="`+village+`"] .badge.red')`)
	county.do("打开逾期工单", chromedp.Click(chromedp.CSS(`#overdue-orders [data-order="`+late+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#order-panel[data-current="`+late+`"] [data-action="ESCALATE"]`)))
	if head := county.text("#order-head"); !strings.Contains(head, "已升级至泽国镇督办") {
		t.Errorf("the overdue order's head: %s", head)
	}
	for _, p := range []*page{county, town, vil} {
		p.clean()
	}
}

// quietEvent is the i-th court filing or 110 call of a unit: the hub delivers no
// work to their upstreams, so nothing but the page moves an order on it.
func quietEvent(t *testing.T, base, token, org string, i int) (e struct{ ID, Title string }) {
	t.Helper()
	var events struct {
		Events struct {
			Edges []struct{ Node struct{ ID, Title string } }
		}
	}
	graphQL(t, base, token, fmt.Sprintf(`{ events(filter: {orgCode: %q, sources: [COURT, POLICE_110]}, first: 2) { edges { node { id title } } } }`, org), &events)
	if len(events.Events.Edges) <= i {
		t.Fatalf("%s has %d court filings and 110 calls", org, len(events.Events.Edges))
	}
	return events.Events.Edges[i].Node
}

// openNotice waits for the notice of an order's step and opens the order from it.
func (p *page) openNotice(order, action string) {
	p.t.Helper()
	notice := `#notices li[data-order="` + order + `"][data-action="` + action + `"]`
	p.do("工单提醒 "+action,
		chromedp.WaitVisible(chromedp.CSS(notice)),
		chromedp.Click(chromedp.CSS(notice)),
		chromedp.WaitVisible(chromedp.CSS(`#order-panel[data-current="`+order+`"]`)),
	)
}

// step takes one step of the loop on the order open in the tab, with a note.
func (p *page) step(act, label, note, state string) {
	p.t.Helper()
	p.do(label,
		chromedp.WaitVisible(chromedp.CSS(`#order-actions [data-act="`+act+`"]`)),
		chromedp.Click(chromedp.CSS(`#order-actions [data-act="`+act+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#order-actions form`)),
	)
	p.submitStep(label, note, state)
}

// submitStep fills the open step form's note, sends it and waits for the state.
func (p *page) submitStep(label, note, state string) {
	p.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	if note != "" {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(`#order-actions [name="note"]`), note))
	}
	p.do(label, append(steps,
		chromedp.Click(chromedp.CSS(`#order-actions button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#order-panel[data-state="`+state+`"]`)),
	)...)
}

// figures waits until the orders panel shows want.
func (p *page) figures(what string, want map[string]int) {
	p.t.Helper()
	var conds []string
	for k, v := range want {
		conds = append(conds, fmt.Sprintf(`document.querySelector("#of-%s b").textContent === "%d"`, k, v))
	}
	slices.Sort(conds)
	p.waitUntil("工单数 "+what, strings.Join(conds, " && "))
}

// offsetClock is the wall clock moved on by an offset, for the orders' deadlines.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time      { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *offsetClock) set(d time.Duration) { c.offset.Store(int64(d)) }
