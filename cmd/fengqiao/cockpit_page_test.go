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
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: .ci/run installs it")
		}
		t.Skip("no chromium on this machine")
	}
	base, tokens := startDemo(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	var mu sync.Mutex
	var problems []string
	chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console error")
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, ev.ExceptionDetails.Text)
		}
	})

	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/cockpit#token="+tokens["county"]),
		chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="331081"]`)),
	); err != nil {
		t.Fatal(err)
	}
	total := text("#k-total")
	// Drill down: 泽国镇's tile.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#units .unit[data-org="331081100"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="331081100"]`)),
	); err != nil {
		t.Fatal(err)
	}
	crumbs, drilled := text("#crumbs"), text("#k-total")
	county, _ := strconv.Atoi(strings.TrimSpace(total))
	town, _ := strconv.Atoi(strings.TrimSpace(drilled))
	if county == 0 || town == 0 || town >= county || !strings.Contains(crumbs, "温岭市") || !strings.Contains(crumbs, "泽国镇") {
		t.Fatalf("county total %q, town total %q, breadcrumb %q", total, drilled, crumbs)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Fatalf("the page logged errors: %v", problems)
	}
}
