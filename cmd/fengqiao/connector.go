package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/manifest"
)

// connector runs the connector subcommands: check and new.
func (m *Main) connector(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "check":
			return m.connectorCheck(ctx, args[1:])
		case "new":
			return m.connectorNew(args[1:])
		}
	}
	return fmt.Errorf("用法：fengqiao connector check FILE [-sample 响应.json] [-var 名=值 …] | fengqiao connector new NAME")
}

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
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("用法：fengqiao connector check FILE [-sample 响应.json] [-var 名=值 …]")
	}
	file := args[0]
	fs := flag.NewFlagSet("connector check", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	sample := fs.String("sample", "", "用保存的接口响应（JSON 文件）代替实际请求")
	vs := vars{}
	fs.Var(vs, "var", "清单中 ${名} 的值，可重复")
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
	conn := manifest.New(man, nil)
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
	raws, err := conn.Page(body)
	if err != nil {
		return fmt.Errorf("%s", fengqiao.ErrorMessage(err))
	}
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
	if bad > 0 {
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
	if len(args) != 1 || !manifestName.MatchString(args[0]) {
		return fmt.Errorf("用法：fengqiao connector new NAME（NAME 为小写英文，如 fireinspection）")
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
