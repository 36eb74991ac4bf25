package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestJSONLogStartBreakerAndStop starts a hub with -log-format json whose one
// upstream refuses connections: the log is JSON lines, and has the start-up line
// (version, config, data directory, connectors), the breaker's opening, and,
// after SIGTERM, the shutdown line. The hub's GraphiQL page keeps no headers in
// the browser, and `fengqiao health` says the hub is not ready.
func TestJSONLogStartBreakerAndStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "hub")
	config := filepath.Join(dir, "fengqiao.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf(`addr: 127.0.0.1:0
data: %s
syncInterval: 100ms
log: {format: text, level: info}
hotline12345:
  baseURL: http://127.0.0.1:1
  apiKey: k
  upstream: {retryMax: 1, retryWaitMin: 10ms, retryWaitMax: 10ms, breakerFailures: 1, breakerCooldown: 200ms}
`, data)), 0o600)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"=serve\n-config\n"+config+"\n-log-format\njson")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	guard := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer guard.Stop()

	lines := make(chan map[string]any, 1000)
	go func() {
		defer close(lines)
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			var line map[string]any
			if err := json.Unmarshal(s.Bytes(), &line); err != nil {
				t.Errorf("a log line that is not JSON: %q", s.Text())
				continue
			}
			lines <- line
		}
	}()
	next := func(what string, match func(map[string]any) bool) map[string]any {
		t.Helper()
		for line := range lines {
			if match(line) {
				return line
			}
		}
		t.Fatalf("the log ended without %s", what)
		return nil
	}

	start := next("the start-up line", func(l map[string]any) bool { return l["msg"] == "枢纽启动" })
	for key, want := range map[string]string{"config": config, "data": data, "connectors": "hotline12345", "index": "bleve", "level": "INFO"} {
		if start[key] != want {
			t.Errorf("start-up line %s = %v, want %q (%v)", key, start[key], want, start)
		}
	}
	if v, _ := start["version"].(string); v == "" {
		t.Errorf("start-up line without a version: %v", start)
	}
	addr, _ := start["addr"].(string)
	first, _ := bufio.NewReader(stdout).ReadString('\n')
	go io.Copy(io.Discard, stdout)
	if !strings.Contains(first, addr) {
		t.Errorf("stdout says %q, the log says addr %q", first, addr)
	}

	next("the breaker opening", func(l map[string]any) bool {
		return l["upstream"] == "hotline12345" && l["to"] == "open" && l["level"] == "WARN"
	})

	resp, err := http.Get("http://" + addr + "/graphiql")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "shouldPersistHeaders: false") || strings.Contains(string(page), "shouldPersistHeaders: true") {
		t.Errorf("the GraphiQL page persists headers:\n%s", page)
	}
	if !strings.Contains(string(page), `localStorage.removeItem("graphiql:headers")`) {
		t.Errorf("the GraphiQL page leaves headers an earlier page kept")
	}

	r := runChild(t, 30*time.Second, nil, "health", "-addr", addr)
	if r.Code != 1 || !strings.Contains(r.Stderr, "未就绪") {
		t.Errorf("fengqiao health of a hub whose upstream is down: exit %d %q %q", r.Code, r.Stdout, r.Stderr)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	stop := next("the shutdown line", func(l map[string]any) bool { return l["msg"] == "枢纽停止" })
	if stop["reason"] != "收到停止信号" || stop["uptime"] == nil {
		t.Errorf("shutdown line %v", stop)
	}
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("the hub ended with %v after SIGTERM", err)
	}
}
