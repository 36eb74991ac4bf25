package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/tools/sim"
)

// boardVersion is a message board's manifest; title and the time expression
// vary between the versions an operator writes.
func boardVersion(url, title, reportedAt string) string {
	return `name: board
title: 民情留言板
source: APP
baseURL: ` + url + `
request: {path: /api/messages}
pagination: {type: token, size: 2, tokenParam: pageToken, nextToken: data.nextPageToken}
records: data.list
id: r["留言编号"]
event:
  kind: '"REQUEST"'
  title: ` + title + `
  category: '"留言"'
  reportedAt: ` + reportedAt + `
  status: '"RECEIVED"'
  orgCode: '"331081"'
  updatedAt: ` + reportedAt + `
`
}

const (
	dashTime = `parseTime(r["留言时间"], "2006-01-02 15:04:05")`
	// anyTime also reads the slashed form one message was written in.
	anyTime = `'r["留言时间"].contains("/") ? parseTime(r["留言时间"], "2006/01/02 15:04") : parseTime(r["留言时间"], "2006-01-02 15:04:05")'`
)

// servedBoard is a hub serving a manifest folder (empty at first) beside a
// message board of three messages, two a page: the second message's time is
// written in a form the first manifest cannot read.
type servedBoard struct {
	hub      *Hub
	base     string
	dir      string
	boardURL string
	token    func(role fengqiao.Role, org string) string
}

func serveBoard(t *testing.T) *servedBoard {
	t.Helper()
	board := sim.NewMessageBoard([]map[string]string{
		{"留言编号": "M1", "留言主题": "路灯不亮", "留言时间": "2026-11-01 09:00:00"},
		{"留言编号": "M3", "留言主题": "噪音扰民", "留言时间": "2026/11/01 10:00"},
		{"留言编号": "M2", "留言主题": "井盖缺失", "留言时间": "2026-11-02 09:00:00"},
	}, 2)
	up := httptest.NewServer(board.Handler())
	t.Cleanup(up.Close)
	dir := t.TempDir()
	hub, err := OpenHub(Config{Addr: "127.0.0.1:0", Data: t.TempDir(), Manifests: dir, SyncInterval: 50 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; hub.Close() })
	return &servedBoard{hub: hub, base: "http://" + hub.Addr(), dir: dir, boardURL: up.URL, token: func(role fengqiao.Role, org string) string {
		tok, err := hub.Tokens.Issue(fengqiao.Principal{ID: "t", Name: "测试", Role: role, OrgCode: org}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}}
}

// write puts a manifest file in the folder and has the hub look at once (as
// its watch does every few seconds).
func (b *servedBoard) write(t *testing.T, file, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(b.dir, file), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	b.scan(t)
}

func (b *servedBoard) scan(t *testing.T) {
	t.Helper()
	if _, err := b.hub.Manifests.Scan(); err != nil {
		t.Fatal(err)
	}
}

// state waits until the named connector's state satisfies ok, and returns it.
func (b *servedBoard) state(t *testing.T, name string, ok func(fengqiao.ConnectorState) bool) fengqiao.ConnectorState {
	t.Helper()
	var last fengqiao.ConnectorState
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		states, err := b.hub.Runner.States()
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range states {
			if st.Name == name {
				if last = st; ok(st) {
					return st
				}
			}
		}
	}
	t.Fatalf("connector %s never reached the state expected; last %+v", name, last)
	return last
}

// titles are the indexed app events' titles by source id.
func (b *servedBoard) titles(t *testing.T) map[string]string {
	t.Helper()
	page, err := b.hub.Index.Search(context.Background(), fengqiao.EventQuery{Filter: fengqiao.EventFilter{Sources: []fengqiao.Source{fengqiao.SourceApp}}, First: 50})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range page.Events {
		out[e.SourceID] = e.Title
	}
	return out
}

// healthz returns /healthz's status and reasons, asked without a token.
func (b *servedBoard) healthz(t *testing.T) (int, string, []string) {
	t.Helper()
	resp, err := http.Get(b.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status  string
		Reasons []string
	}
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Status, body.Reasons
}

// An operator adds an app, fixes its mapping, breaks its manifest and removes
// it, all while the hub runs: each change applies without a restart, and a
// broken file is refused with its reason while the running version goes on.
func TestManifestFolderReloadsWhileTheHubRuns(t *testing.T) {
	t.Parallel()
	b := serveBoard(t)
	if _, status, _ := b.healthz(t); status != "ready" {
		t.Fatalf("an empty manifest folder: healthz %s", status)
	}

	// Added: the app syncs; the message with the slashed time is quarantined.
	b.write(t, "board.yaml", boardVersion(b.boardURL, `r["留言主题"]`, dashTime))
	st := b.state(t, "board", func(st fengqiao.ConnectorState) bool { return st.CaughtUp && st.Quarantined == 1 })
	if got := b.titles(t); got["M1"] != "路灯不亮" || got["M2"] != "井盖缺失" || len(got) != 2 {
		t.Fatalf("after adding the manifest the index holds %v", got)
	}
	if st.NewestRecordAt == nil || !st.NewestRecordAt.Equal(time.Date(2026, 11, 2, 9, 0, 0, 0, fengqiao.CST)) {
		t.Errorf("newest record time = %v, want M2's", st.NewestRecordAt)
	}

	// Changed: the new mapping applies to what the app reads next.
	b.write(t, "board.yaml", boardVersion(b.boardURL, `'"【留言】" + r["留言主题"]'`, anyTime))
	b.state(t, "board", func(fengqiao.ConnectorState) bool { return b.titles(t)["M2"] == "【留言】井盖缺失" })
	if st := b.state(t, "board", func(st fengqiao.ConnectorState) bool { return st.CaughtUp }); st.Quarantined != 1 || st.Refused != "" {
		t.Errorf("after the change: %+v; want the quarantined message kept until replayed", st)
	}

	// Broken: refused with the reason, shown in the states and /healthz, and
	// the running version goes on.
	b.write(t, "board.yaml", boardVersion(b.boardURL, `r["留言主题"] +`, anyTime))
	st = b.state(t, "board", func(st fengqiao.ConnectorState) bool { return st.Refused != "" })
	if !strings.Contains(st.Refused, "board.yaml") || !strings.Contains(st.Refused, "event.title") {
		t.Errorf("refusal = %q, want the file and the field", st.Refused)
	}
	code, status, reasons := b.healthz(t)
	if code != http.StatusOK || status != "degraded" || len(reasons) != 1 || !strings.HasPrefix(reasons[0], "board：清单被拒") {
		t.Errorf("healthz with a refused manifest = %d %s %v", code, status, reasons)
	}
	running := b.hub.Runner.Connectors()
	if len(running) != 1 || running[0].Name() != "board" {
		t.Fatalf("running after the refusal: %v", running)
	}
	if _, err := b.hub.Runner.SyncBatch(context.Background(), running[0]); err != nil {
		t.Errorf("the running version no longer syncs: %v", err)
	}
	// A new file that never parsed shows under its file's name.
	b.write(t, "other.yaml", "name: [")
	if st := b.state(t, "other", func(st fengqiao.ConnectorState) bool { return st.Refused != "" }); st.Title != "other.yaml" {
		t.Errorf("a broken new file shows as %+v", st)
	}

	// Fixed again, the refusal is gone.
	b.write(t, "board.yaml", boardVersion(b.boardURL, `'"【留言】" + r["留言主题"]'`, anyTime))
	b.state(t, "board", func(st fengqiao.ConnectorState) bool { return st.Refused == "" })

	// Removed: the connectors stop and their refusals go; the events stay.
	os.Remove(filepath.Join(b.dir, "board.yaml"))
	os.Remove(filepath.Join(b.dir, "other.yaml"))
	b.scan(t)
	if states, _ := b.hub.Runner.States(); len(states) != 0 || len(b.hub.Runner.Connectors()) != 0 {
		t.Errorf("after removing the manifests: %+v", states)
	}
	if got := b.titles(t); len(got) != 2 {
		t.Errorf("after removing the manifest the index holds %v, want its events kept", got)
	}
	if _, status, reasons := b.healthz(t); status != "ready" {
		t.Errorf("healthz after the removal: %s %v", status, reasons)
	}
}

// A connector's quarantine is replayed after its manifest is fixed, from the
// command line or by the mutation, by county operators alone: records that now
// map are indexed and leave quarantine, those that still fail stay with their
// new reason. Its cursor is reset to a time the same ways.
func TestQuarantineReplayAndCursorReset(t *testing.T) {
	t.Parallel()
	b := serveBoard(t)
	b.write(t, "board.yaml", boardVersion(b.boardURL, `r["留言主题"]`, dashTime))
	b.state(t, "board", func(st fengqiao.ConnectorState) bool { return st.CaughtUp && st.Quarantined == 1 })
	operator := b.token(fengqiao.RoleOperator, "331081")

	for name, tok := range map[string]string{
		"county commander": b.token(fengqiao.RoleCommander, "331081"),
		"county analyst":   b.token(fengqiao.RoleAnalyst, "331081"),
		"town operator":    b.token(fengqiao.RoleOperator, "331081100"),
	} {
		var out any
		err := hubGraphQL(context.Background(), b.hub.Addr(), tok, `mutation { replayQuarantine(connector: "board") { replayed } }`, nil, &out)
		if err == nil || !strings.Contains(err.Error(), "仅限县级运维员") {
			t.Errorf("replay by a %s: %v", name, err)
		}
		err = hubGraphQL(context.Background(), b.hub.Addr(), tok, `mutation { resetConnectorCursor(connector: "board", from: "2026-01-01") { cursor } }`, nil, &out)
		if err == nil || !strings.Contains(err.Error(), "仅限县级运维员") {
			t.Errorf("reset by a %s: %v", name, err)
		}
	}

	// Replayed before the fix, the record fails again and stays.
	out, err := run(t, "", "connector", "replay", "board", "-addr", b.hub.Addr(), "-token", operator)
	if err != nil || !strings.Contains(out, "重放隔离记录 1 条，入库 0 条，仍隔离 1 条") {
		t.Fatalf("replay before the fix: %v\n%s", err, out)
	}
	q, _ := b.hub.State.Quarantine("board")
	if len(q) != 1 || q[0].SourceID != "M3" || !strings.Contains(q[0].Raw, "2026/11/01 10:00") || !strings.Contains(q[0].Reason, "2006-01-02 15:04:05") {
		t.Fatalf("quarantine after a failing replay: %+v", q)
	}

	// Fixed, the replay indexes it with the new mapping and empties the quarantine.
	b.write(t, "board.yaml", boardVersion(b.boardURL, `r["留言主题"]`, anyTime))
	b.state(t, "board", func(st fengqiao.ConnectorState) bool { return st.CaughtUp })
	var replay struct{ ReplayQuarantine fengqiao.ReplayResult }
	graphQL(t, b.base, operator, `mutation { replayQuarantine(connector: "board") { connector replayed indexed quarantined pending } }`, &replay)
	if r := replay.ReplayQuarantine; r.Connector != "board" || r.Replayed != 1 || r.Indexed != 1 || r.Quarantined != 0 {
		t.Errorf("replay after the fix: %+v", r)
	}
	if got := b.titles(t); got["M3"] != "噪音扰民" {
		t.Errorf("after the replay the index holds %v", got)
	}
	if st := b.state(t, "board", func(fengqiao.ConnectorState) bool { return true }); st.Quarantined != 0 {
		t.Errorf("quarantine after the replay: %d", st.Quarantined)
	}

	// Reset: a board paging by token reads again from its first page.
	var reset struct{ ResetConnectorCursor struct{ Name, Cursor string } }
	graphQL(t, b.base, operator, `mutation { resetConnectorCursor(connector: "board", from: "2026-11-01") { name cursor } }`, &reset)
	if reset.ResetConnectorCursor.Name != "board" || reset.ResetConnectorCursor.Cursor != "" {
		t.Errorf("reset: %+v", reset)
	}
	if out, err := run(t, "", "connector", "reset", "board", "-from", "2026-11-01", "-addr", b.hub.Addr(), "-token", operator); err != nil || !strings.Contains(out, "从头重新读取") {
		t.Errorf("connector reset: %v\n%s", err, out)
	}
	if out, err := run(t, "", "connector", "reset", "nosuch", "-from", "2026-11-01", "-addr", b.hub.Addr(), "-token", operator); err == nil || !strings.Contains(err.Error(), "连接器不存在") {
		t.Errorf("reset of an unknown connector: %v\n%s", err, out)
	}

	// Both are in the audit log, under the operator.
	entries, _, err := b.hub.Audit.Entries(context.Background(), fengqiao.AuditFilter{}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range entries {
		actions[e.Action]++
	}
	if actions["重放隔离记录"] != 2 || actions["重置同步游标"] < 2 {
		t.Errorf("audit log actions: %v", actions)
	}
}

// An app whose full page comes without a next-page token is not caught up: the
// hub is degraded, still answering 200 for what the other apps brought, and
// says why.
func TestHealthzIsDegradedByAFullPageWithoutAToken(t *testing.T) {
	t.Parallel()
	b := serveBoard(t)
	b.write(t, "board.yaml", boardVersion(b.boardURL, `r["留言主题"]`, anyTime))
	b.state(t, "board", func(st fengqiao.ConnectorState) bool { return st.CaughtUp })
	// A second app looks for the next page's token where the board puts none:
	// its first page is full and seems to name no next page.
	wrong := strings.Replace(boardVersion(b.boardURL, `r["留言主题"]`, anyTime), "data.nextPageToken", "data.next", 1)
	b.write(t, "board2.yaml", strings.Replace(wrong, "name: board", "name: board2", 1))
	st := b.state(t, "board2", func(st fengqiao.ConnectorState) bool { return st.LastError != "" })
	if st.CaughtUp {
		t.Errorf("a full page without a token counts as caught up: %+v", st)
	}
	code, status, reasons := b.healthz(t)
	if code != http.StatusOK || status != "degraded" || len(reasons) != 1 || reasons[0] != "board2：上次同步失败" {
		t.Errorf("healthz = %d %s %v", code, status, reasons)
	}
	// The container's health check passes, and says why it is degraded.
	if out, err := run(t, "", "health", "-addr", b.hub.Addr()); err != nil || !strings.Contains(out, "就绪：degraded（board2：上次同步失败）") {
		t.Errorf("fengqiao health of a degraded hub: %v %q", err, out)
	}
}
