package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMStopsTheDemoWhileItGenerates starts the demo of a five-year world and
// sends SIGTERM at its first report of progress: the process stops and says it was
// interrupted (had the generator not stopped, the demo would have started and its
// server then ended cleanly on the ended context).
func TestSIGTERMStopsTheDemoWhileItGenerates(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"=demo\n-scale\n5\n-addr\n127.0.0.1:0\n-data\n"+t.TempDir())
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A guard against a hang, not a measure: the whole world would take far longer.
	guard := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer guard.Stop()
	lines := bufio.NewScanner(stderr)
	var last string
	for lines.Scan() {
		last = lines.Text()
		if strings.Contains(last, "msg=progress") {
			cmd.Process.Signal(syscall.SIGTERM)
			break
		}
	}
	var rest []string
	for lines.Scan() {
		rest = append(rest, lines.Text())
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("the demo ended with %v after SIGTERM; first progress %q, then %q", err, last, rest)
	}
	if len(rest) == 0 || rest[len(rest)-1] != "fengqiao: 已中断" {
		t.Fatalf("after SIGTERM the demo said %q", rest)
	}
}
