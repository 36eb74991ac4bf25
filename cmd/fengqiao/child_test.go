package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// childResult is how a fengqiao process started from the test binary ended.
type childResult struct {
	Stdout, Stderr string
	Code           int // -1: killed at the deadline
	Took           time.Duration
}

// runChild runs fengqiao with args (the test binary as the command, see
// TestMain) and extra environment, killing it after limit.
func runChild(t *testing.T, limit time.Duration, env []string, args ...string) childResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), env...), childArgs+"="+strings.Join(args, "\n"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := childResult{Stdout: stdout.String(), Stderr: stderr.String(), Took: time.Since(start)}
	switch e := err.(type) {
	case nil:
	case *exec.ExitError:
		r.Code = e.ExitCode()
	default:
		t.Fatalf("fengqiao %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		r.Code = -1
	}
	return r
}
