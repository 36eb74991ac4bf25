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

// run runs the program in dir and returns what it printed and its error. Given
// no dir it stays where it is: changing the directory is for tests that run
// alone, not in parallel with others.
func run(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	if dir != "" {
		wd, _ := os.Getwd()
		if err := os.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		defer os.Chdir(wd)
	}
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
		`✓ #1 F1 {"ID":"fireinspection:F1"`, `"Status":"IN_PROGRESS"`, `"Name":"陈明"`,
		`✗ #2 F2：event.reportedAt：时间 "昨天" 不符合格式 2006-01-02 15:04:05`,
		`✗ #3 F3：event.status：代码表 status 中没有 "9"`,
		`✓ #4 F4 {"ID":"fireinspection:F4"`, `"OrgCode":"331081100010"`,
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

// TestConnectorCheckDryRunsAnAction dry-runs the example message board's write
// side against saved answers: the request it would send (the key masked), and
// whether each answer would be accepted.
func TestConnectorCheckDryRunsAnAction(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	example := filepath.Join(wd, "..", "..", "connectors", "manifests", "examples", "messageboard.yaml")
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.json", `{"code":0,"message":"转办成功","data":{"transferId":"ZB000007","messageId":"LY001"}}`)
	write("dup.json", `{"code":409,"message":"重复的请求，已返回原转办","data":{"transferId":"ZB000003"}}`)
	write("refused.json", `{"code":1004,"message":"留言已办结，不能转办"}`)
	write("html.json", `<html>502 Bad Gateway</html>`)
	write("d.json", `{"sourceId":"LY001","deadline":"2026-11-06T23:59:59+08:00","priority":"CRITICAL"}`)
	vars := []string{"-var", "MESSAGEBOARD_URL=http://board.example.gov", "-var", "MESSAGEBOARD_KEY=board-secret-key"}
	check := func(args ...string) (string, error) {
		return run(t, dir, append(append([]string{"connector", "check", example}, args...), vars...)...)
	}

	out, err := check("-action", "dispatch", "-dispatch", "d.json", "-response", "ok.json")
	if err != nil {
		t.Fatalf("accepted: %v\n%s", err, out)
	}
	for _, want := range []string{
		"试运行 actions.dispatch（交办）",
		"  POST http://board.example.gov/api/messages/LY001/transfers\n",
		"  X-Board-Key: bo****\n",
		"  X-Request-Id: ORD-000123-1\n",
		`"deadline": "2026-11-06 23:59:59"`, `"level": "特急"`, `"outerNo": "ORD-000123-1"`,
		`"opinion": "请司法所办理：请核实情况，依法依规处理，并于期限内反馈。"`,
		"✓ 按保存的答复（HTTP 200）：上游受理了交办，编号 ZB000007",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "board-secret-key") || strings.Contains(out, "⚠") {
		t.Errorf("secret shown or warned:\n%s", out)
	}

	out, err = check("-action", "dispatch", "-response", "dup.json", "-status", "409")
	if err != nil || !strings.Contains(out, "✓ 按保存的答复（HTTP 409）：上游已有该交办（重复），编号 ZB000003") {
		t.Fatalf("duplicate: %v\n%s", err, out)
	}
	out, err = check("-action", "supervise", "-response", "refused.json")
	if err == nil || !strings.Contains(out, "✗ 按保存的答复（HTTP 200）：上游拒绝了督办：留言已办结，不能转办") ||
		!strings.Contains(out, "/api/messages/SAMPLE-001/urges") || !strings.Contains(out, `"opinion": "【督办】`) {
		t.Fatalf("refused: %v\n%s", err, out)
	}
	out, err = check("-action", "dispatch", "-response", "html.json")
	if err == nil || !strings.Contains(out, "✗ 按保存的答复（HTTP 200）无法判断是否受理") {
		t.Fatalf("unjudgeable: %v\n%s", err, out)
	}
	out, err = check("-action", "assign", "-response", "ok.json")
	if err == nil || !strings.Contains(err.Error(), "没有动作 assign，已声明：dispatch、supervise") {
		t.Fatalf("unknown action: %v\n%s", err, out)
	}

	// A mapping that fails for the sample: non-zero, with the field.
	write("odd.json", `{"priority":"SOMEDAY"}`)
	out, err = check("-action", "dispatch", "-dispatch", "odd.json", "-response", "ok.json")
	if err == nil || !strings.Contains(out, `✗ 交办请求无法生成：actions.dispatch.body.level：代码表 level 中没有 "SOMEDAY"`) {
		t.Fatalf("unmappable: %v\n%s", err, out)
	}

	// Without idempotency: warned; with a lookup, it is shown and judged.
	text, _ := os.ReadFile(example)
	noKey := strings.Replace(string(text), "    idempotencyHeader: X-Request-Id             # 投递的 Key：重试时留言板认出重复\n", "", 1)
	write("nokey.yaml", noKey)
	out, err = run(t, dir, append([]string{"connector", "check", "nokey.yaml", "-action", "dispatch", "-response", "ok.json"}, vars...)...)
	if err != nil || !strings.Contains(out, "⚠ actions.dispatch 既没有 idempotencyHeader 也没有 lookup") || strings.Contains(out, "X-Request-Id") {
		t.Fatalf("no key: %v\n%s", err, out)
	}
	write("lookup.yaml", strings.Replace(noKey, "    reason: get(body, \"message\", \"\")\n", `    reason: get(body, "message", "")
    lookup:
      path: /api/transfers
      query: {outerNo: "{d.key}"}
      found: body.code == 0 && size(body.data.list) > 0
      ref: body.data.list[0].transferId
`, 1))
	write("found.json", `{"code":0,"data":{"list":[{"transferId":"ZB000001"}],"total":1}}`)
	out, err = run(t, dir, append([]string{"connector", "check", "lookup.yaml", "-action", "dispatch", "-lookup-response", "found.json", "-response", "ok.json"}, vars...)...)
	for _, want := range []string{"查重请求（lookup，每次发送前先执行", "  GET http://board.example.gov/api/transfers?outerNo=ORD-000123-1\n",
		"✓ 按保存的查重答复（HTTP 200）：上游已有该工作，编号 ZB000001"} {
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("lookup: %v, output lacks %q:\n%s", err, want, out)
		}
	}
	if strings.Contains(out, "⚠") {
		t.Fatalf("warned with a lookup:\n%s", out)
	}
}

// TestConnectorCheckFailsWhatWouldFailSilently: a page whose records are all
// fine still fails check when records: finds nothing in it, when its ids repeat
// or when a mapped field is empty on every record.
func TestConnectorCheckFailsWhatWouldFailSilently(t *testing.T) {
	dir := t.TempDir()
	if out, err := run(t, dir, "connector", "new", "fireinspection"); err != nil {
		t.Fatalf("new: %v\n%s", err, out)
	}
	rec := func(id, title string) string {
		return fmt.Sprintf(`{"id":%q,"title":%q,"createTime":"2026-11-01 09:00:00","updateTime":"2026-11-01 10:00:00","status":"1","areaCode":"331081100010"}`, id, title)
	}
	cases := []struct{ name, sample, says string }{
		{"good", `{"data":{"list":[` + rec("F1", "消防通道堵塞") + `,` + rec("F2", "灭火器过期") + `]}}`, ""},
		{"records", `{"code":0,"result":{"rows":[` + rec("F1", "消防通道堵塞") + `]}}`, "✗ records: data.list 在响应中找不到，而响应不为空；响应中的记录列表在：result.rows"},
		{"repeated", `{"data":{"list":[` + rec("F1", "消防通道堵塞") + `,` + rec("F1", "消防通道堵塞") + `]}}`, "✗ 本页记录编号重复：F1"},
		{"empty title", `{"data":{"list":[` + rec("F1", "") + `,` + rec("F2", "") + `]}}`, "✗ 映射字段 event.title 在本页 2 条记录中都为空"},
	}
	for _, tc := range cases {
		os.WriteFile(filepath.Join(dir, "sample.json"), []byte(tc.sample), 0o644)
		out, err := run(t, dir, "connector", "check", "fireinspection.yaml", "-sample", "sample.json",
			"-var", "FIREINSPECTION_URL=http://127.0.0.1:1", "-var", "FIREINSPECTION_KEY=k")
		if tc.says == "" {
			if err != nil {
				t.Errorf("%s: %v\n%s", tc.name, err, out)
			}
			continue
		}
		if err == nil || !strings.Contains(out, tc.says) {
			t.Errorf("%s: %v, output lacks %q:\n%s", tc.name, err, tc.says, out)
		}
	}
}

// Without -token, replay and reset ask for an operator's token (a commander is
// refused both); reindex, which a commander may run, asks for either.
func TestMissingTokenNamesWhoMayAct(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args       []string
		want, dont string
	}{
		{[]string{"connector", "replay", "board"}, "提供县级运维员令牌", "指挥长"},
		{[]string{"connector", "reset", "board", "-from", "2026-11-01"}, "提供县级运维员令牌", "指挥长"},
		{[]string{"reindex"}, "提供县级运维员或指挥长令牌", ""},
	} {
		_, err := run(t, "", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || c.dont != "" && strings.Contains(err.Error(), c.dont) {
			t.Errorf("%v without -token: %v, want %q", c.args, err, c.want)
		}
	}
}
