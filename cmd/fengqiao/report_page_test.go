package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"fengqiao"
)

// TestCockpitPageExportsTheMonthlyBulletin drives the reference cockpit in
// headless Chromium: drilled down to 泽国镇, 导出每月通报 fetches the town's
// workbook of the month chosen with the token and saves it under the hub's name.
func TestCockpitPageExportsTheMonthlyBulletin(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: .ci/run installs it")
		}
		t.Skip("no chromium on this machine")
	}
	base, tokens := startDemo(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	dir := t.TempDir()
	month := time.Now().In(fengqiao.CST).Format("2006-01")
	begun := chromedp.Events(ctx, browser.DownloadWillBegin)
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	events := true
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/cockpit#token="+tokens["county"]),
		chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="331081"]`)),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events})
			return err
		}),
		chromedp.Click(chromedp.CSS(`#units .unit[data-org="331081100"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="331081100"]`)),
		chromedp.SetValue(chromedp.CSS("#report-month"), month),
		chromedp.Click(chromedp.CSS("#report")),
	); err != nil {
		t.Fatal(err)
	}
	want := "每月通报-泽国镇-" + month + ".xlsx"
	for ev, err := range begun {
		if err != nil {
			t.Fatal(err)
		}
		if ev.SuggestedFilename != want {
			t.Errorf("the download is named %q, want %q", ev.SuggestedFilename, want)
		}
		break
	}
	var saved string
	for ev, err := range progress {
		if err != nil {
			t.Fatal(err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			saved = filepath.Join(dir, ev.GUID)
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
	}
	f, err := excelize.OpenFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unit, _ := f.GetCellValue("概况", "B2")
	when, _ := f.GetCellValue("概况", "B3")
	if unit != "温岭市泽国镇" || when != time.Now().In(fengqiao.CST).Format("2006年1月") {
		t.Errorf("the workbook is of %q, %q", unit, when)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#report-status")))
	if err != nil || !strings.Contains(status, want) {
		t.Errorf("the page says %q (%v)", status, err)
	}
}
