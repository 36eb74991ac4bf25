package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// clock is a fake time that moves only when told.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newTestProgress(out *bytes.Buffer) (*progress, *clock) {
	c := &clock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	return &progress{what: "生成模拟世界", out: out, every: time.Second, now: c.now, start: c.t}, c
}

func TestProgressInTheLogs(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p, c := newTestProgress(&out)
	p.log = slog.New(slog.NewTextHandler(&out, nil))
	c.advance(2 * time.Second)
	p.Report(1000, 4000)
	c.advance(100 * time.Millisecond)
	p.Report(1100, 4000) // too soon after the last: not shown
	c.advance(2 * time.Second)
	p.Report(4000, 4000) // the end: always shown
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines logged:\n%s", len(lines), out.String())
	}
	for _, want := range []string{"msg=progress", "step=生成模拟世界", "done=1000", "total=4000", "rate=500", "left=6s"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("progress logged as %q, without %s", lines[0], want)
		}
	}
	if !strings.Contains(lines[1], "done=4000 total=4000") {
		t.Errorf("the end logged as %q", lines[1])
	}
}

func TestProgressOnATerminal(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p, c := newTestProgress(&out)
	c.advance(2 * time.Second)
	p.Report(1000, 4000)
	if got, want := out.String(), "\r生成模拟世界 1000/4000 (25%) 500/秒 约剩 6s   "; got != want {
		t.Fatalf("progress line %q, want %q", got, want)
	}
	out.Reset()
	c.advance(6 * time.Second)
	p.Report(4000, 4000)
	if got, want := out.String(), "\r生成模拟世界 4000/4000 (100%) 500/秒 用时 8.0 秒\n"; got != want {
		t.Fatalf("last progress line %q, want %q", got, want)
	}
}

// An upstream that does not say how many records are left: the line shows what
// is read and the rate, says the total is unknown, and Finish ends it.
func TestProgressWithoutATotal(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p, c := newTestProgress(&out)
	p.what = "首次同步"
	c.advance(2 * time.Second)
	p.Report(1000, -1)
	if got, want := out.String(), "\r首次同步 1000 条 500/秒（总数未知）  "; got != want {
		t.Fatalf("progress line %q, want %q", got, want)
	}
	out.Reset()
	c.advance(2 * time.Second)
	p.Finish(1600)
	if got, want := out.String(), "\r首次同步 1600/1600 (100%) 400/秒 用时 4.0 秒\n"; got != want {
		t.Fatalf("last progress line %q, want %q", got, want)
	}
	out.Reset()
	p.log = slog.New(slog.NewTextHandler(&out, nil))
	c.advance(10 * time.Second)
	p.Report(2000, -1)
	if !strings.Contains(out.String(), "done=2000 total=unknown") {
		t.Errorf("logged as %q", out.String())
	}
}
