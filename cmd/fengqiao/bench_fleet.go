package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"sync"
	"syscall"
	"time"

	"fengqiao"
	"fengqiao/tools/sim"
)

// fleetFlags are bench's flags for the fleet: -apps and what goes with it.
type fleetFlags struct {
	apps, records int
	concurrency   int // the hub's syncConcurrency
	conns         int // the hub's upstreamConns
}

// selfCommand is the command that runs this program with args (tests run the
// test binary, see TestMain).
var selfCommand = func(ctx context.Context, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.CommandContext(ctx, exe, args...)
}

// benchFleet measures how the hub catches up with a fleet of generated apps:
// `fengqiao fleet` serves them from a second process, so that the CPU time, RSS
// and heap measured here are the hub's alone. The hub loads their manifests from
// the folder the fleet wrote, and syncs them all at once within its bounds.
func (m *Main) benchFleet(ctx context.Context, f fleetFlags, report *benchReport) error {
	dir, err := os.MkdirTemp("", "fengqiao-fleet")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	manifestDir := filepath.Join(dir, "manifests")
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	// The fleet's process and the bench write to one Stderr, the fleet's through a
	// goroutine exec copies with: one lock for both, until the process is waited for.
	stderr := &lockedWriter{w: m.Stderr}
	m.Stderr = stderr
	defer func() { m.Stderr = stderr.w }()
	cmd := selfCommand(ctx, "fleet", "-apps", strconv.Itoa(f.apps), "-records", strconv.Itoa(f.records), "-manifests", manifestDir)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait()
	defer stop() // the fleet stops before it is waited for
	var vars map[string]string
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err := cmp.Or(err, json.Unmarshal(line, &vars)); err != nil {
		return fmt.Errorf("模拟长尾应用未能启动：%w", err)
	}

	cfg := Config{Addr: "127.0.0.1:0", Data: filepath.Join(dir, "hub"), SyncInterval: time.Hour,
		SyncConcurrency: f.concurrency, UpstreamConns: f.conns, Manifests: manifestDir, ManifestVars: vars}.withDefaults()
	hub, err := OpenHub(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer hub.Close()
	m.step("%d 个长尾应用，同步并发 %d，每主机连接上限 %d", len(hub.Runner.Connectors()), cfg.SyncConcurrency, cfg.UpstreamConns)
	peakRSS, peakHeap := samplePeak(100*time.Millisecond, rss), samplePeak(100*time.Millisecond, heapObjects)
	start, cpu0 := time.Now(), cpuTime()
	served := make(chan error, 1)
	go func() { served <- hub.Serve(ctx) }()
	defer func() { stop(); <-served }()
	m.showCatchUp(ctx, hub)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	wall, cpu := time.Since(start), cpuTime()-cpu0
	rssPeak, heapPeak := peakRSS(), peakHeap()

	var st sim.FleetStats
	if err := fleetStats(ctx, vars["FLEET_URL"], &st); err != nil {
		return err
	}
	events, err := hub.Index.Count(ctx, fengqiao.EventFilter{})
	if err != nil {
		return err
	}
	states, err := hub.Runner.States()
	if err != nil {
		return err
	}
	quarantined := 0
	for _, s := range states {
		quarantined += s.Quarantined
	}
	report.Events = events
	// Every record in, the broken ones alone quarantined, no app's rate exceeded.
	if wellFormed := st.Records - st.Malformed; events != wellFormed || quarantined != st.Malformed || st.Served != st.Records || st.OverRate > 0 {
		return fmt.Errorf("同步结果不符：应用共 %d 条记录（其中 %d 条格式错误），送出 %d 条；索引 %d 条事件，隔离 %d 条；超出限流的请求 %d 次",
			st.Records, st.Malformed, st.Served, events, quarantined, st.OverRate)
	}
	report.add(benchRow{Key: "fleet.time", Measure: fmt.Sprintf("%d 个长尾应用首次同步：用时", st.Apps), Value: num(wall.Seconds()), Unit: "s",
		Figure: fmt.Sprintf("%.1f 秒（%d 条记录，%d 条事件，%.0f 条/秒）", wall.Seconds(), st.Records, events, float64(st.Records)/wall.Seconds()),
		Target: "—"})
	report.add(benchRow{Key: "fleet.cpu", Measure: "枢纽 CPU 时间（用户+系统）", Value: num(cpu.Seconds()), Unit: "s",
		Figure: fmt.Sprintf("%.1f 秒（%.2f 核，每千条 %.0f 毫秒）", cpu.Seconds(), cpu.Seconds()/wall.Seconds(), cpu.Seconds()*1e6/float64(st.Records)),
		Target: "—"})
	report.add(benchRow{Key: "fleet.rssPeak", Measure: "枢纽 RSS 峰值", Value: num(float64(rssPeak) / (1 << 20)), Unit: "MiB",
		Figure: fmt.Sprintf("%.0f MiB", float64(rssPeak)/(1<<20)), Target: "—"})
	report.add(benchRow{Key: "fleet.heapPeak", Measure: "枢纽 Go 堆峰值（对象）", Value: num(float64(heapPeak) / (1 << 20)), Unit: "MiB",
		Figure: fmt.Sprintf("%.0f MiB（同步后存活 %.0f MiB）", float64(heapPeak)/(1<<20), float64(liveHeap())/(1<<20)), Target: "—"})
	report.add(benchRow{Key: "fleet.conns", Measure: "同时打开的连接／请求（峰值）", Value: num(float64(st.PeakConns)), Unit: "conns",
		Figure: fmt.Sprintf("%d 个连接，%d 个请求", st.PeakConns, st.PeakRequests),
		Target: fmt.Sprintf("请求 ≤ 同步并发 %d，连接 ≤ 每主机上限 %d", cfg.SyncConcurrency, cfg.UpstreamConns),
		Met:    met(st.PeakRequests <= cfg.SyncConcurrency && st.PeakConns <= cfg.UpstreamConns)})
	return nil
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapObjects is the Go heap the program's objects take now, live or not yet collected.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// fleetStats reads the figures of the fleet at url.
func fleetStats(ctx context.Context, url string, v *sim.FleetStats) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/_fleet/stats", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// lockedWriter serializes the writes of several goroutines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
