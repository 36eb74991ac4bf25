package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fengqiao"
)

// TestConnectorsPageInChromium: a county operator goes from the cockpit to the
// connectors page, sees the message board with its lag and its quarantined
// message, opens the drawer (raw record and reason), and replays it after the
// manifest was fixed; a county commander sees the drawer without the replay.
// Opening the drawer reads, and audits, that connector's quarantine alone.
func TestConnectorsPageInChromium(t *testing.T) {
	browser := chromiumPath(t)
	b := serveBoard(t)
	b.write(t, "board.yaml", boardVersion(b.boardURL, `r["留言主题"]`, dashTime))
	b.state(t, "board", func(st fengqiao.ConnectorState) bool { return st.CaughtUp && st.Quarantined == 1 })
	b.write(t, "board.yaml", boardVersion(b.boardURL, `r["留言主题"]`, anyTime))
	b.state(t, "board", func(st fengqiao.ConnectorState) bool { return st.CaughtUp })
	// A second app keeps its quarantine: opening the board's drawer reads only the board's.
	b.write(t, "board2.yaml", strings.Replace(boardVersion(b.boardURL, `r["留言主题"]`, dashTime), "name: board\n", "name: board2\n", 1))
	b.state(t, "board2", func(st fengqiao.ConnectorState) bool { return st.CaughtUp && st.Quarantined == 1 })

	p := newBrowser(t, browser, "县运维员", 90*time.Second)
	p.open(b.base, b.token(fengqiao.RoleOperator, "331081"), "331081")
	p.do("打开接入状态页",
		chromedp.Click(chromedp.CSS("#connectors-link")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-loaded] tr[data-connector="board"]`)),
	)
	row := p.text(`tr[data-connector="board"]`)
	for _, want := range []string{"民情留言板", "已追平", "正常", "天"} { // M2 is weeks old: the lag is in days
		if !strings.Contains(row, want) {
			t.Errorf("the board's row lacks %q: %q", want, row)
		}
	}
	if q := p.text(`tr[data-connector="board"] td.quarantined`); strings.TrimSpace(q) != "1" {
		t.Errorf("the board's quarantine shows %q, want 1", q)
	}
	p.do("打开隔离记录",
		chromedp.Click(chromedp.CSS(`[data-quarantine="board"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#drawer[data-loaded] li[data-record="M3"]`)),
	)
	record := p.text(`li[data-record="M3"]`)
	if !strings.Contains(record, "2026/11/01 10:00") || !strings.Contains(record, "2006-01-02 15:04:05") {
		t.Errorf("the quarantined record shows %q, want its raw record and reason", record)
	}
	action := "查看隔离记录"
	looks, _, err := b.hub.Audit.Entries(t.Context(), fengqiao.AuditFilter{Action: &action}, 0, 10)
	if err != nil || len(looks) != 1 || looks[0].Subject != "board" {
		t.Errorf("opening the board's drawer audited %+v (%v), want one look at the board", looks, err)
	}
	p.do("重放隔离记录", chromedp.Click(chromedp.CSS("#replay")))
	p.waitUntil("重放完成", `document.querySelector("#replay-result").innerText.includes("入库 1 条")`)
	p.waitUntil("隔离区已清空", `document.querySelector('tr[data-connector="board"] td.quarantined').innerText.trim() === "0"`)
	if got := b.titles(t); got["M3"] != "噪音扰民" {
		t.Errorf("after the replay from the page the index holds %v", got)
	}
	p.clean()

	// A commander reads the quarantine but has no replay.
	b.write(t, "board.yaml", boardVersion(b.boardURL, `r["留言主题"]`, dashTime))
	b.hub.Runner.ResetCursor(t.Context(), "board", time.Time{}) // read again: M3 fails the old mapping again
	b.state(t, "board", func(st fengqiao.ConnectorState) bool { return st.CaughtUp && st.Quarantined == 1 })
	c := p.tab("县指挥长")
	c.do("打开接入状态页",
		chromedp.Navigate(b.base+"/connectors#token="+b.token(fengqiao.RoleCommander, "331081")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-loaded] [data-quarantine="board"]`)),
		chromedp.Click(chromedp.CSS(`[data-quarantine="board"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#drawer[data-loaded] li[data-record="M3"]`)),
	)
	if n := eval[int](c, `document.querySelectorAll("#replay").length`); n != 0 {
		t.Errorf("a commander sees the replay button")
	}
	c.clean()
}
