package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// run runs the program in dir and returns what it printed and its error.
func run(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var out bytes.Buffer
	err := (&Main{Stdout: &out, Stderr: &out}).Run(context.Background(), args)
	return out.String(), err
}

// TestConnectorNewThenCheck walks the integration engineer's path in
// docs/connectors.md: a new manifest, checked against a saved response.
func TestConnectorNewThenCheck(t *testing.T) {
	dir := t.TempDir()
	if out, err := run(t, dir, "connector", "new", "fireinspection"); err != nil {
		t.Fatalf("new: %v\n%s", err, out)
	}
	if _, err := run(t, dir, "connector", "new", "fireinspection"); err == nil {
		t.Fatal("new overwrote an existing manifest")
	}
	sample := `{"data":{"list":[
 {"id":"F1","title":"消防通道堵塞","content":"楼下社区消防通道被占用","createTime":"2026-11-01 09:00:00","updateTime":"2026-11-01 10:00:00","status":"1","areaCode":"331081100010","reporter":"陈明","phone":"19900001234"},
 {"id":"F2","title":"时间写错","createTime":"昨天","updateTime":"2026-11-01 10:00:00","status":"1","areaCode":"331081100010"},
 {"id":"F3","title":"状态未知","createTime":"2026-11-01 09:00:00","updateTime":"2026-11-01 10:00:00","status":"9","areaCode":"331081100010"},
 {"id":"F4","title":"按地址定位","createTime":"2026-11-01 09:00:00","updateTime":"2026-11-01 10:00:00","status":"2","address":"温岭市泽国镇楼下社区中心路1号"},
 {"id":"F5","title":"日期在未来","createTime":"2026-11-01 09:00:00","updateTime":"2099-01-01 10:00:00","status":"1","areaCode":"331081100010"}]}}`
	os.WriteFile(filepath.Join(dir, "sample.json"), []byte(sample), 0o644)
	out, err := run(t, dir, "connector", "check", "fireinspection.yaml", "-sample", "sample.json",
		"-var", "FIREINSPECTION_URL=http://127.0.0.1:1", "-var", "FIREINSPECTION_KEY=k")
	if err == nil {
		t.Fatal("check passed with three broken records")
	}
	for _, want := range []string{
		`✓ #1 F1 {"ID":"APP:F1"`, `"Status":"IN_PROGRESS"`, `"Name":"陈明"`,
		`✗ #2 F2：event.reportedAt：时间 "昨天" 不符合格式 2006-01-02 15:04:05`,
		`✗ #3 F3：event.status：代码表 status 中没有 "9"`,
		`✓ #4 F4 {"ID":"APP:F4"`, `"OrgCode":"331081100010"`,
		`✗ #5 F5：更新时间 2099-01-01 10:00:00 晚于当前时间超过 10 分钟`,
		"共 5 条记录：2 条可入库，3 条有问题",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	// A broken manifest is reported with its line, and nothing is read.
	text, _ := os.ReadFile(filepath.Join(dir, "fireinspection.yaml"))
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte(strings.Replace(string(text), "title: r.title", "title: r.title +", 1)), 0o644)
	out, err = run(t, dir, "connector", "check", "broken.yaml", "-sample", "sample.json", "-var", "FIREINSPECTION_URL=http://x", "-var", "FIREINSPECTION_KEY=k")
	if err == nil || !strings.Contains(out, "broken.yaml:") || !strings.Contains(out, "event.title 表达式") {
		t.Fatalf("broken manifest: %v\n%s", err, out)
	}
}

func TestConnectorCheckReadsTheLiveUpstream(t *testing.T) {
	w := world.Generate(world.Config{Seed: 2, Scale: 0.002, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST)})
	county, err := sim.StartCounty(w)
	if err != nil {
		t.Fatal(err)
	}
	defer county.Close()
	wd, _ := os.Getwd()
	manifest := filepath.Join(wd, "..", "..", "connectors", "manifests", "citymgmt.yaml")
	out, err := run(t, t.TempDir(), "connector", "check", manifest, "-var", "CITYMGMT_URL="+county.URL["city"], "-var", "CITYMGMT_KEY="+county.Secret)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("共 %d 条记录：%d 条可入库，0 条有问题", min(100, len(w.City)), min(100, len(w.City))); !strings.Contains(out, want) || !strings.Contains(out, `"Source":"CITY_MGMT"`) {
		t.Fatalf("output lacks %q:\n%s", want, out[:min(len(out), 2000)])
	}
}
