package main

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestCockpitPageInChromium drives the reference cockpit in headless Chromium:
// it loads, shows figures from the demo, drills down one level, and logs no
// console errors. CI installs Debian's chromium; elsewhere the test is skipped
// when there is none.
func TestCockpitPageInChromium(t *testing.T) {
	browser := chromiumPath(t)
	base, tokens := startDemo(t)
	p := newBrowser(t, browser, "县指挥长", 60*time.Second)
	p.open(base, tokens["county"], "331081")
	total := p.text("#k-total")
	// Drill down: 泽国镇's tile.
	p.do("下钻到泽国镇",
		chromedp.Click(chromedp.CSS(`#units .unit[data-org="331081100"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="331081100"]`)),
	)
	crumbs, drilled := p.text("#crumbs"), p.text("#k-total")
	county, _ := strconv.Atoi(strings.TrimSpace(total))
	town, _ := strconv.Atoi(strings.TrimSpace(drilled))
	if county == 0 || town == 0 || town >= county || !strings.Contains(crumbs, "温岭市") || !strings.Contains(crumbs, "泽国镇") {
		t.Fatalf("county total %q, town total %q, breadcrumb %q", total, drilled, crumbs)
	}
	p.clean()
}

// chromiumPath is Debian's chromium. CI installs it (.ci/run); elsewhere a test
// that needs it is skipped when there is none.
func chromiumPath(t *testing.T) string {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: .ci/run installs it")
		}
		t.Skip("no chromium on this machine")
	}
	return browser
}

// page is one tab of headless Chromium, named for the user in it. It records the
// console errors and exceptions the page logs; clean fails the test on any.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu       sync.Mutex
	problems []string
}

// newBrowser starts headless Chromium for the test and returns its first tab;
// everything must be done within timeout.
func newBrowser(t *testing.T, browser, name string, timeout time.Duration) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()))
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc(); cancelTimeout() })
	return newPage(t, name, ctx)
}

// tab opens another tab of p's browser (p must have run an action first).
func (p *page) tab(name string) *page {
	ctx, cancel := chromedp.NewContext(p.ctx)
	p.t.Cleanup(cancel)
	return newPage(p.t, name, ctx)
}

func newPage(t *testing.T, name string, ctx context.Context) *page {
	p := &page{t: t, name: name, ctx: ctx}
	chromedp.Listen(ctx, func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				p.problems = append(p.problems, "console error")
			}
		case *runtime.EventExceptionThrown:
			p.problems = append(p.problems, ev.ExceptionDetails.Text)
		}
	})
	return p
}

// open loads the cockpit with a token and waits until it shows org.
func (p *page) open(base, token, org string) {
	p.t.Helper()
	p.do("打开驾驶舱",
		chromedp.Navigate(base+"/cockpit#token="+token),
		chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="`+org+`"]`)),
	)
}

// do runs steps in the tab, failing the test with what was being done.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		shown, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
		p.t.Fatalf("%s：%s：%v\n页面：\n%s", p.name, what, err, shown)
	}
}

// text is the visible text of the first element matching sel.
func (p *page) text(sel string) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("%s：读取 %s：%v", p.name, sel, err)
	}
	return v
}

// eval is the value of a JavaScript expression in the page.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("%s：%s：%v", p.name, expr, err)
	}
	return v
}

// waitUntil waits until a JavaScript expression is true in the page.
func (p *page) waitUntil(what, expr string) {
	p.t.Helper()
	p.do(what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
}

// clean fails the test if the page logged errors.
func (p *page) clean() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.problems) > 0 {
		p.t.Fatalf("%s：the page logged errors: %v", p.name, p.problems)
	}
}
