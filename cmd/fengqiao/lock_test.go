package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecondHubOnADataDirectoryFailsAtOnce starts a hub, then a second hub and a
// demo on its data directory: each exits non-zero within seconds, naming the
// directory and the first hub's pid. Once the first is killed (-9: no clean
// release), a third starts on the same directory.
func TestSecondHubOnADataDirectoryFailsAtOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "hub")
	config := filepath.Join(dir, "fengqiao.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf(`addr: 127.0.0.1:0
data: %s
hotline12345: {baseURL: "http://127.0.0.1:1", apiKey: k}
`, data)), 0o600)
	first := startHub(t, config)
	pid := first.cmd.Process.Pid

	for _, args := range [][]string{
		{"serve", "-config", config},
		{"demo", "-addr", "127.0.0.1:0", "-data", data},
	} {
		r := runChild(t, 30*time.Second, nil, args...)
		if r.Code <= 0 || r.Took > 10*time.Second {
			t.Fatalf("fengqiao %s on a held data directory: exit %d after %v; stderr %q", args[0], r.Code, r.Took, r.Stderr)
		}
		for _, want := range []string{"数据目录 " + data, fmt.Sprintf("pid %d", pid), "正被另一个 fengqiao 进程"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("fengqiao %s said %q, want it to say %q", args[0], r.Stderr, want)
			}
		}
	}

	first.cmd.Process.Kill()
	first.cmd.Wait()
	third := startHub(t, config)
	if h := readLockHolder(filepath.Join(data, lockName)); h.PID != third.cmd.Process.Pid {
		t.Errorf("the lock file names pid %d, the running hub is %d", h.PID, third.cmd.Process.Pid)
	}
}
