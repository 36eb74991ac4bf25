package main

import (
	"context"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestEveryCommandsHelpExitsZeroInChinese runs -h (and -help, --help) of every
// command and subcommand as a process: each exits 0 with its Chinese usage on
// stdout, nothing on stderr, and none of the flag package's English.
func TestEveryCommandsHelpExitsZeroInChinese(t *testing.T) {
	t.Parallel()
	commands := []string{"", "serve", "demo", "token", "connector", "connector check", "connector new", "connector replay", "connector reset", "bench",
		"chains", "chains eval", "chains realtext", "chains linkcost", "reindex", "report", "report monthly", "health", "version"}
	for _, c := range commands {
		for _, h := range []string{"-h", "-help", "--help"} {
			args := append(strings.Fields(c), h)
			r := runChild(t, time.Minute, nil, args...)
			name := strings.Join(args, " ")
			if r.Code != 0 || r.Stderr != "" {
				t.Errorf("fengqiao %s: exit %d, stderr %q", name, r.Code, r.Stderr)
			}
			if !strings.Contains(r.Stdout, "用法") {
				t.Errorf("fengqiao %s printed no usage: %q", name, r.Stdout)
			}
			for _, english := range []string{"Usage of", "(default", "usage:"} {
				if strings.Contains(r.Stdout, english) {
					t.Errorf("fengqiao %s says %q:\n%s", name, english, r.Stdout)
				}
			}
			if c != "" && !strings.Contains(r.Stdout, "fengqiao "+c) {
				t.Errorf("fengqiao %s: the usage does not name the command:\n%s", name, r.Stdout)
			}
		}
	}
}

// TestMistakesAreExplainedInChinese: an unknown flag or subcommand exits 1 with
// the mistake in Chinese and the usage on stderr.
func TestMistakesAreExplainedInChinese(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ args, want string }{
		{"serve -nonsense", "未知的选项 -nonsense"},
		{"demo -scale x", "选项 -scale 的值 \"x\" 无效"},
		{"reindex -token", "选项 -token 需要一个值"},
		{"chains nonsense", "未知的 chains 子命令：nonsense"},
		{"connector", "请指明 connector 的子命令"},
		{"nonsense", "未知的子命令：nonsense"},
	} {
		r := runChild(t, time.Minute, nil, strings.Fields(c.args)...)
		if r.Code != 1 || !strings.Contains(r.Stderr, c.want) || !strings.Contains(r.Stderr, "用法") {
			t.Errorf("fengqiao %s: exit %d, stderr %q; want %q and the usage", c.args, r.Code, r.Stderr, c.want)
		}
		if strings.Contains(r.Stderr, "flag provided") || strings.Contains(r.Stderr, "Usage of") {
			t.Errorf("fengqiao %s speaks the flag package's English: %q", c.args, r.Stderr)
		}
	}
	var stderr strings.Builder
	if err := (&Main{Stdout: io.Discard, Stderr: &stderr}).Run(context.Background(), nil); err == nil || !strings.Contains(stderr.String(), "用法") {
		t.Errorf("fengqiao without a command: %v, %q", err, stderr.String())
	}
}

// TestVersion: `fengqiao version`, --version and -version print the version line.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"version", "--version", "-version"} {
		r := runChild(t, time.Minute, nil, arg)
		if r.Code != 0 || !strings.HasPrefix(r.Stdout, "fengqiao ") || !strings.Contains(r.Stdout, runtime.Version()) {
			t.Errorf("fengqiao %s: exit %d, %q %q", arg, r.Code, r.Stdout, r.Stderr)
		}
	}
	old := version
	version = "1.2.3"
	defer func() { version = old }()
	if v := versionString(); v != "1.2.3" {
		t.Errorf("with -X main.version=1.2.3 the version is %q", v)
	}
}

func TestLocalAddr(t *testing.T) {
	for in, want := range map[string]string{"": "127.0.0.1:8080", "0.0.0.0:9000": "127.0.0.1:9000", ":8080": "127.0.0.1:8080",
		"[::]:8080": "127.0.0.1:8080", "10.0.0.5:8080": "10.0.0.5:8080"} {
		if got := localAddr(in); got != want {
			t.Errorf("localAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
