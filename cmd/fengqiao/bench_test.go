package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A request that fails is an error, never a latency: the summary's quantiles and
// rate are of the successful requests alone.
func TestBenchLoadCountsErrorsNotLatencies(t *testing.T) {
	t.Parallel()
	res, err := runLoad(context.Background(), 3, 30, func(ctx context.Context, i int) error {
		if i%3 == 0 {
			return errors.New("超时")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.errors != 10 || len(res.lat) != 20 || res.requests() != 30 || res.firstErr == nil {
		t.Fatalf("%d errors, %d latencies, %d requests, first error %v", res.errors, len(res.lat), res.requests(), res.firstErr)
	}
	row := latencyRow("x", "x", res, 0.95, 1e9, "x")
	if row.Errors != 10 || row.Requests != 30 || row.Met == nil || *row.Met || !strings.Contains(row.Figure, "10/30 个请求出错") {
		t.Fatalf("a row with errors: %+v", row)
	}
	// Every request failing: no latency at all, and the row says so.
	none, _ := runLoad(context.Background(), 2, 4, func(context.Context, int) error { return errors.New("HTTP 503") })
	if _, ok := none.pct(0.5); ok || none.rate() != 0 || none.errors != 4 {
		t.Fatalf("all failed: %+v", none)
	}
	if row := latencyRow("x", "x", none, 0.95, 50, "x"); row.Value != nil || row.Met == nil || *row.Met || !strings.Contains(row.Figure, "无成功请求") {
		t.Fatalf("all failed: %+v", row)
	}
	// A slow request is a latency, counted whole.
	slow, _ := runLoad(context.Background(), 1, 2, func(context.Context, int) error { time.Sleep(time.Millisecond); return nil })
	if d, ok := slow.pct(0.99); !ok || d < time.Millisecond || slow.errors != 0 {
		t.Fatalf("slow: %+v", slow)
	}
}

// The bench runs whole at a tiny scale and writes every row of its table, each
// with a figure.
func TestBenchWritesEveryRow(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole bench")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bench.json")
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := m.Run(ctx, []string{"bench", "-scale", "0.002", "-requests", "8", "-concurrency", "2", "-storm", "40", "-json", path}); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var report benchReport
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatal(err)
	}
	if report.Scale != 0.002 || report.Events == 0 {
		t.Fatalf("report: scale %g, %d events", report.Scale, report.Events)
	}
	rows := map[string]benchRow{}
	for _, r := range report.Rows {
		rows[r.Key] = r
	}
	for _, key := range benchKeys {
		r, ok := rows[key]
		if !ok {
			t.Errorf("no row %s", key)
			continue
		}
		if r.Figure == "" || r.Measure == "" || r.Target == "" {
			t.Errorf("row %s: %+v", key, r)
		}
		if r.Value == nil && r.Errors == 0 {
			t.Errorf("row %s has no value and no errors: %+v", key, r)
		}
		if !strings.Contains(out.String(), r.Measure) {
			t.Errorf("the printed table lacks %s", r.Measure)
		}
	}
	if len(report.Rows) != len(benchKeys) {
		t.Errorf("%d rows, want %d", len(report.Rows), len(benchKeys))
	}
	// The live read just after the upstream went down is a stale answer naming it.
	if r := rows["live.firstDown"]; r.Met == nil || r.Errors != 0 || !strings.Contains(r.Figure, "过时答复并指明上游") {
		t.Errorf("first live read after the upstream went down: %+v", r)
	}
	if r := rows["live.down"]; r.Errors != 0 {
		t.Errorf("live reads with the upstream down: %+v", r)
	}
}

// bench -apps runs the apps in a second process and writes the fleet's rows,
// after checking that every record came in.
func TestBenchFleetWritesItsRows(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a fleet bench")
	}
	t.Parallel()
	selfCommand = func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childArgs+"="+strings.Join(args, "\n"))
		return cmd
	}
	path := filepath.Join(t.TempDir(), "fleet.json")
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := (&Main{Stdout: &out, Stderr: &errOut}).Run(ctx, []string{"bench", "-apps", "6", "-app-records", "40", "-sync-concurrency", "3", "-json", path}); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var report benchReport
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatal(err)
	}
	if report.Apps != 6 || report.Events == 0 || !strings.Contains(out.String(), "fengqiao bench -apps 6") {
		t.Fatalf("report: %d apps, %d events\n%s", report.Apps, report.Events, out.String())
	}
	rows := map[string]benchRow{}
	for _, r := range report.Rows {
		rows[r.Key] = r
	}
	for _, key := range []string{"fleet.time", "fleet.cpu", "fleet.rssPeak", "fleet.heapPeak", "fleet.conns"} {
		if r, ok := rows[key]; !ok || r.Value == nil || *r.Value <= 0 || !strings.Contains(out.String(), r.Measure) {
			t.Errorf("row %s: %+v", key, r)
		}
	}
	if r := rows["fleet.conns"]; r.Met == nil || !*r.Met {
		t.Errorf("bounds: %+v", r)
	}
}
