package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"fengqiao"
)

// connectorReplay is `fengqiao connector replay NAME`: the running hub maps the
// connector's quarantined records again with its current mapping
// (replayQuarantine, county operators only).
func (m *Main) connectorReplay(ctx context.Context, args []string) error {
	fs := m.command("connector replay", "connector replay NAME [-addr 地址] -token 令牌|@文件",
		"让运行中的枢纽按连接器当前的映射重新处理其隔离记录：通过的入库并移出隔离区，仍不通过的留在隔离区并更新原因。")
	name, addr, token, err := m.connectorOpArgs(fs, args)
	if err != nil {
		return err
	}
	var out struct {
		ReplayQuarantine fengqiao.ReplayResult
	}
	err = hubGraphQL(ctx, addr, token, `mutation($c: ID!) { replayQuarantine(connector: $c) { connector replayed indexed quarantined pending } }`,
		map[string]any{"c": name}, &out)
	if err != nil {
		return err
	}
	r := out.ReplayQuarantine
	fmt.Fprintf(m.Stdout, "%s：重放隔离记录 %d 条，入库 %d 条，仍隔离 %d 条，等待关联事件 %d 条\n", name, r.Replayed, r.Indexed, r.Quarantined, r.Pending)
	return nil
}

// connectorReset is `fengqiao connector reset NAME -from TIME`: the running hub
// reads the connector's changes again since then (resetConnectorCursor).
func (m *Main) connectorReset(ctx context.Context, args []string) error {
	fs := m.command("connector reset", "connector reset NAME -from 时间 [-addr 地址] -token 令牌|@文件",
		"让运行中的枢纽重置连接器的同步游标，从给定时间起重新读取上游的变更（已入库的记录不会重复）。")
	from := fs.String("from", "", "重读起点：2026-01-01、2026-01-01 08:00:00（北京时间）或 RFC 3339")
	name, addr, token, err := m.connectorOpArgs(fs, args)
	if err != nil {
		return err
	}
	if *from == "" {
		return fs.Fail("请用 -from 给出重读起点，如 -from 2026-01-01")
	}
	var out struct {
		ResetConnectorCursor struct{ Cursor string }
	}
	err = hubGraphQL(ctx, addr, token, `mutation($c: ID!, $from: Time!) { resetConnectorCursor(connector: $c, from: $from) { cursor } }`,
		map[string]any{"c": name, "from": *from}, &out)
	if err != nil {
		return err
	}
	if out.ResetConnectorCursor.Cursor == "" {
		fmt.Fprintf(m.Stdout, "%s：同步游标已重置，从头重新读取（按令牌或按编号递增分页的上游无法按时间定位）\n", name)
		return nil
	}
	fmt.Fprintf(m.Stdout, "%s：同步游标已重置，从 %s 起重新读取\n", name, *from)
	return nil
}

// connectorOpArgs reads NAME, then the flags of fs with -addr and -token.
func (m *Main) connectorOpArgs(fs *command, args []string) (name, addr, token string, err error) {
	a := fs.String("addr", "127.0.0.1:8080", "运行中枢纽的地址")
	t := fs.String("token", "", "县级运维员（OPERATOR）令牌；也可用 @文件 读取")
	if err := fs.Help(args); err != nil {
		return "", "", "", err
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", "", "", fs.Fail("请先给出连接器名称（name），再给选项")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return "", "", "", err
	}
	token, err = readToken(*t, "县级运维员") // a commander is refused replay and reset
	return args[0], *a, token, err
}

// hubGraphQL sends an operation to the running hub at addr with token and
// decodes its data into out; the hub's first error is returned as it says it.
func hubGraphQL(ctx context.Context, addr, token, query string, vars map[string]any, out any) error {
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("无法连接枢纽 %s：%w", addr, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var reply struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return fmt.Errorf("枢纽的应答无法解析（%s）：%s", resp.Status, bytes.TrimSpace(raw))
	}
	if len(reply.Errors) > 0 {
		return errors.New(reply.Errors[0].Message)
	}
	return json.Unmarshal(reply.Data, out)
}
