package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/manifest"
)

// connector runs the connector subcommands: check, new, replay and reset.
func (m *Main) connector(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "check":
			return m.connectorCheck(ctx, args[1:])
		case "new":
			return m.connectorNew(args[1:])
		case "replay":
			return m.connectorReplay(ctx, args[1:])
		case "reset":
			return m.connectorReset(ctx, args[1:])
		}
		if isHelp(args[0]) {
			fmt.Fprint(m.Stdout, connectorUsage)
			return nil
		}
	}
	fmt.Fprint(m.Stderr, connectorUsage)
	if len(args) == 0 {
		return errors.New("请指明 connector 的子命令")
	}
	return fmt.Errorf("未知的 connector 子命令：%s", args[0])
}

const connectorUsage = `用法：
  fengqiao connector check 清单.yaml [-sample 响应.json] [-action dispatch -response 答复.json [-status 200]] [-var 名=值 …]
                                     按清单读取一页上游数据，打印映射结果和全部问题
  fengqiao connector new NAME        生成带注释的接入清单 NAME.yaml
  fengqiao connector replay NAME -token 令牌 [-addr 地址]
                                     让运行中的枢纽按当前映射重新处理该连接器的隔离记录
  fengqiao connector reset NAME -from 2026-01-01 -token 令牌 [-addr 地址]
                                     让运行中的枢纽从给定时间起重新读取该连接器的上游

每个子命令的 -h 显示其全部选项。
`

// vars collects repeated -var NAME=VALUE flags.
type vars map[string]string

func (v vars) String() string { return fmt.Sprint(map[string]string(v)) }

func (v vars) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("应为 名=值：%q", s)
	}
	v[name] = value
	return nil
}

var errCheckFailed = errors.New("检查未通过")

// connectorCheck loads a manifest, reads one page from its upstream (or a saved
// response), and prints every mapped record and every problem.
func (m *Main) connectorCheck(ctx context.Context, args []string) error {
	fs := m.command("connector check", "connector check 清单.yaml [-sample 响应.json] [-action dispatch -response 答复.json [-status 200]] [-var 名=值 …]",
		"按接入清单读取一页上游数据（或保存的响应），打印映射结果和全部问题；-action 试运行写回动作，不发送。")
	sample := fs.String("sample", "", "用保存的接口响应（JSON 文件）代替实际请求")
	vs := vars{}
	fs.Var(vs, "var", "清单中 ${名} 的值，可重复")
	var dry dryRun
	fs.StringVar(&dry.action, "action", "", "试运行写回动作（dispatch 交办或 supervise 督办）：显示将发送的请求，不发送")
	fs.StringVar(&dry.response, "response", "", "与 -action 同用：保存的上游答复（文件），按清单判断是否受理")
	fs.IntVar(&dry.status, "status", 200, "与 -response 同用：答复的 HTTP 状态码")
	dry.headers = headerFlags{}
	fs.Var(dry.headers, "header", "与 -response 同用：答复的响应头「名: 值」，可重复")
	fs.StringVar(&dry.lookupResponse, "lookup-response", "", "与 -action 同用：保存的查重（lookup）答复（文件）")
	fs.IntVar(&dry.lookupStatus, "lookup-status", 200, "与 -lookup-response 同用：查重答复的 HTTP 状态码")
	fs.StringVar(&dry.dispatch, "dispatch", "", "与 -action 同用：示例交办（JSON 文件，字段同表达式中的 d：key、sourceId、orgCode、deadline…）")
	if err := fs.Help(args); err != nil {
		return err
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fs.Fail("请先给出清单文件，再给选项")
	}
	file := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	man, err := manifest.ParseFile(file, vs)
	var problems manifest.Problems
	if errors.As(err, &problems) {
		fmt.Fprintf(m.Stdout, "清单有 %d 处问题：\n", len(problems))
		for _, p := range problems {
			fmt.Fprintln(m.Stdout, "  "+p.String())
		}
		return errCheckFailed
	}
	if err != nil {
		return err
	}
	for _, w := range man.Warnings() {
		fmt.Fprintln(m.Stdout, "⚠ "+w)
	}
	conn := manifest.New(man, nil)
	if dry.action != "" {
		return m.dryRunAction(conn, man, dry)
	}
	var body []byte
	if *sample != "" {
		body, err = os.ReadFile(*sample)
	} else {
		fmt.Fprintf(m.Stdout, "读取 %s 的第一页……\n", man.BaseURL+man.Request.Path)
		body, err = conn.FirstPage(ctx)
	}
	if err != nil {
		return fmt.Errorf("读取上游失败：%s", fengqiao.ErrorMessage(err))
	}
	judged, err := conn.JudgePage(body)
	if err != nil {
		return fmt.Errorf("%s", fengqiao.ErrorMessage(err))
	}
	raws := judged.Records
	tree, now := fengqiao.Wenling(), time.Now()
	bad := 0
	for i, raw := range raws {
		e, p, id, err := conn.Map(raw)
		if err == nil && e != nil {
			err = cmp.Or(connectors.CheckDates(e, now), checkEvent(tree, e))
		}
		if err == nil && p != nil {
			err = cmp.Or(connectors.CheckNotFuture("更新时间", p.UpdatedAt, now), p.Validate(tree))
		}
		label := fmt.Sprintf("#%d %s", i+1, id)
		if err != nil {
			bad++
			fmt.Fprintf(m.Stdout, "✗ %s：%s\n    原始记录：%s\n", label, reason(err), raw)
			continue
		}
		var out any = e
		if p != nil {
			out = p
		}
		b, _ := json.Marshal(out)
		fmt.Fprintf(m.Stdout, "✓ %s %s\n", label, b)
	}
	fmt.Fprintf(m.Stdout, "共 %d 条记录：%d 条可入库，%d 条有问题（将进入隔离区）\n", len(raws), len(raws)-bad, bad)
	for _, n := range judged.Notes {
		fmt.Fprintln(m.Stdout, "⚠ "+n)
	}
	for _, p := range judged.Problems {
		fmt.Fprintln(m.Stdout, "✗ "+p)
	}
	if bad > 0 || len(judged.Problems) > 0 {
		return errCheckFailed
	}
	return nil
}

// checkEvent places and validates an event as the runner would.
func checkEvent(tree *fengqiao.OrgTree, e *fengqiao.Event) error {
	if e.OrgCode == "" && e.Address != "" {
		if u := tree.Locate(e.Address); u != nil {
			e.OrgCode = u.Code
		}
	}
	if e.OrgCode == "" && e.RefersTo != "" {
		return nil // placed when the event it refers to arrives
	}
	return e.Validate(tree)
}

// connectorNew writes a commented starting manifest NAME.yaml.
func (m *Main) connectorNew(args []string) error {
	fs := m.command("connector new", "connector new NAME", "在当前目录生成带注释的接入清单 NAME.yaml（NAME 为小写英文，如 fireinspection），不覆盖已有文件。")
	if err := fs.Help(args); err != nil {
		return err
	}
	if len(args) != 1 || !manifestName.MatchString(args[0]) {
		return fs.Fail("NAME 须为一个小写英文名，如 fireinspection")
	}
	name := args[0]
	path := name + ".yaml"
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s 已存在，不覆盖", path)
	}
	upper := strings.ToUpper(name)
	text := strings.NewReplacer("{{name}}", name, "{{NAME}}", upper).Replace(manifestTemplate)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "已生成 %s。按注释修改后运行：\n  fengqiao connector check %s -var %s_URL=http://… -var %s_KEY=…\n", path, path, upper, upper)
	return nil
}

// reason is what a mapping or validation error says, in Chinese either way.
func reason(err error) string {
	if fengqiao.ErrorCode(err) == fengqiao.EINTERNAL {
		return err.Error() // mapping errors are plain errors with Chinese text
	}
	return fengqiao.ErrorMessage(err)
}

// dryRun is what connector check -action was asked.
type dryRun struct {
	action, response, lookupResponse, dispatch string
	status, lookupStatus                       int
	headers                                    headerFlags
}

// headerFlags collects repeated -header "Name: value" flags.
type headerFlags http.Header

func (h headerFlags) String() string { return fmt.Sprint(http.Header(h)) }

func (h headerFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("应为 名: 值：%q", s)
	}
	http.Header(h).Add(strings.TrimSpace(name), strings.TrimSpace(value))
	return nil
}

// sampleDispatch is the dispatch a dry run renders: a 交办 (a 督办 for
// supervise) on SAMPLE-001, due at the end of the seventh day from now, with the
// fields of the -dispatch file over it.
func sampleDispatch(action, file string) (fengqiao.Dispatch, error) {
	y, mo, d := time.Now().In(fengqiao.CST).AddDate(0, 0, 7).Date()
	dp := fengqiao.Dispatch{Key: "ORD-000123-1", Action: fengqiao.ActionIssue, OrderCode: "JF331081-2026-000123",
		OrderKind: fengqiao.OrderAssign, SourceID: "SAMPLE-001", OrgCode: "331081100010", Department: "司法所",
		Deadline: time.Date(y, mo, d, 23, 59, 59, 0, fengqiao.CST), Priority: fengqiao.PriorityUrgent,
		Instructions: "请核实情况，依法依规处理，并于期限内反馈。"}
	if action == manifest.ActionSupervise {
		dp.OrderKind = fengqiao.OrderSupervise
	}
	if file == "" {
		return dp, nil
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return dp, err
	}
	var in struct {
		Key, Action, OrderCode, OrderKind, SourceID, OrgCode, Department, Priority, Instructions string
		Deadline                                                                                 *time.Time
	}
	dec := json.NewDecoder(strings.NewReader(string(text)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return dp, fmt.Errorf("示例交办 %s 无法读取：%v（字段：key、action、orderCode、orderKind、sourceId、orgCode、department、deadline（RFC 3339）、priority、instructions）", file, err)
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&dp.Key, in.Key)
	set((*string)(&dp.Action), in.Action)
	set(&dp.OrderCode, in.OrderCode)
	set((*string)(&dp.OrderKind), in.OrderKind)
	set(&dp.SourceID, in.SourceID)
	set(&dp.OrgCode, in.OrgCode)
	set(&dp.Department, in.Department)
	set((*string)(&dp.Priority), in.Priority)
	set(&dp.Instructions, in.Instructions)
	if in.Deadline != nil {
		dp.Deadline = *in.Deadline
	}
	return dp, nil
}

// dryRunAction prints the request an action would send for a sample dispatch,
// and how the manifest reads saved answers to it; nothing is sent.
func (m *Main) dryRunAction(conn *manifest.Connector, man *manifest.Manifest, dry dryRun) error {
	title := manifest.ActionTitle(dry.action)
	if title == "" || man.Actions[dry.action] == nil {
		names := man.ActionNames()
		if len(names) == 0 {
			return fmt.Errorf("%s 没有声明 actions（写回）", man.Name)
		}
		return fmt.Errorf("%s 没有动作 %s，已声明：%s", man.Name, dry.action, strings.Join(names, "、"))
	}
	d, err := sampleDispatch(dry.action, dry.dispatch)
	if err != nil {
		return err
	}
	sample, _ := json.Marshal(map[string]any{"key": d.Key, "action": d.Action, "orderCode": d.OrderCode, "orderKind": d.OrderKind,
		"sourceId": d.SourceID, "orgCode": d.OrgCode, "department": d.Department, "deadline": d.Deadline.In(fengqiao.CST).Format(time.RFC3339),
		"priority": d.Priority, "instructions": d.Instructions})
	fmt.Fprintf(m.Stdout, "试运行 actions.%s（%s），示例交办 d：%s\n", dry.action, title, sample)
	failed := false
	if l, err := conn.PreviewLookup(dry.action, d); err != nil {
		fmt.Fprintf(m.Stdout, "✗ 查重请求（lookup）无法生成：%v\n", err)
		failed = true
	} else if l != nil {
		if man.Actions[dry.action].IdempotencyHeader != "" {
			fmt.Fprintln(m.Stdout, "查重请求（lookup，已有 idempotencyHeader，不会执行）：")
		} else {
			fmt.Fprintln(m.Stdout, "查重请求（lookup，每次发送前先执行；上游已有则不再发送）：")
		}
		printOutgoing(m.Stdout, l)
		if dry.lookupResponse != "" {
			body, err := os.ReadFile(dry.lookupResponse)
			if err != nil {
				return err
			}
			found, ref, err := conn.JudgeLookup(dry.action, d, &connectors.Response{Status: dry.lookupStatus, Header: http.Header{}, Body: body})
			switch {
			case err != nil && !found:
				fmt.Fprintf(m.Stdout, "✗ 按保存的查重答复（HTTP %d）无法判断：%v\n", dry.lookupStatus, err)
				failed = true
			case err != nil:
				fmt.Fprintf(m.Stdout, "✗ 按保存的查重答复（HTTP %d）：上游已有该工作，但读不出编号：%v\n", dry.lookupStatus, err)
				failed = true
			case found:
				fmt.Fprintf(m.Stdout, "✓ 按保存的查重答复（HTTP %d）：上游已有该工作，编号 %s，不再发送（回执为重复）\n", dry.lookupStatus, ref)
			default:
				fmt.Fprintf(m.Stdout, "✓ 按保存的查重答复（HTTP %d）：上游没有该工作，将发送下面的请求\n", dry.lookupStatus)
			}
		}
	}
	out, err := conn.PreviewAction(dry.action, d)
	if err != nil {
		fmt.Fprintf(m.Stdout, "✗ %s请求无法生成：%v\n", title, err)
		return errCheckFailed
	}
	fmt.Fprintln(m.Stdout, "将发送的请求（不发送；密钥已隐去）：")
	printOutgoing(m.Stdout, out)
	if dry.response == "" {
		fmt.Fprintln(m.Stdout, "未给出 -response：不判断答复。")
	} else {
		body, err := os.ReadFile(dry.response)
		if err != nil {
			return err
		}
		header := http.Header(dry.headers).Clone()
		if header == nil {
			header = http.Header{}
		}
		v, err := conn.JudgeAction(dry.action, d, &connectors.Response{Status: dry.status, Header: header, Body: body})
		switch {
		case err != nil:
			fmt.Fprintf(m.Stdout, "✗ 按保存的答复（HTTP %d）无法判断是否受理：%v（枢纽会当作结果未知而重试）\n", dry.status, err)
			failed = true
		case !v.Accepted:
			fmt.Fprintf(m.Stdout, "✗ 按保存的答复（HTTP %d）：上游拒绝了%s：%s（枢纽不再重试，显示该原因）\n", dry.status, title, v.Reason)
			failed = true
		case v.RefError != nil:
			fmt.Fprintf(m.Stdout, "✗ 按保存的答复（HTTP %d）：上游受理了%s，但读不出编号：%v\n", dry.status, title, v.RefError)
			failed = true
		case v.Duplicate:
			fmt.Fprintf(m.Stdout, "✓ 按保存的答复（HTTP %d）：上游已有该%s（重复），编号 %s\n", dry.status, title, v.Ref)
		default:
			fmt.Fprintf(m.Stdout, "✓ 按保存的答复（HTTP %d）：上游受理了%s，编号 %s\n", dry.status, title, v.Ref)
		}
	}
	if failed {
		return errCheckFailed
	}
	return nil
}

// printOutgoing prints a request: method and URL, headers in order, and the
// body (indented JSON).
func printOutgoing(w io.Writer, o *manifest.Outgoing) {
	fmt.Fprintf(w, "  %s %s\n", o.Method, o.URL)
	names := make([]string, 0, len(o.Header))
	for name := range o.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range o.Header[name] {
			fmt.Fprintf(w, "  %s: %s\n", name, v)
		}
	}
	if o.Body != nil {
		var pretty bytes.Buffer
		if json.Indent(&pretty, o.Body, "  ", "  ") != nil {
			pretty.Reset()
			pretty.Write(o.Body)
		}
		fmt.Fprintf(w, "\n  %s\n", pretty.String())
	}
}
