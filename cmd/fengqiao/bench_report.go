package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// benchRow is one measure of issue 9's table: the figure, the target and whether
// it is met. Met is null for a figure with no target of its own, or whose target
// needs a peer measured beside the hub (Hive Gateway, Alertmanager).
type benchRow struct {
	Key     string   `json:"key"`
	Measure string   `json:"measure"`
	Figure  string   `json:"figure"`          // as a person reads it
	Value   *float64 `json:"value,omitempty"` // the figure as a number in Unit; absent when no request succeeded
	Unit    string   `json:"unit"`
	Target  string   `json:"target"`
	Met     *bool    `json:"met"`
	// Requests and Errors of a row measured by requests: an errored or timed-out
	// request is an error, never a latency.
	Requests int    `json:"requests,omitempty"`
	Errors   int    `json:"errors"`
	Note     string `json:"note,omitempty"`
}

// benchReport is what `fengqiao bench` writes with -json.
type benchReport struct {
	Scale   float64    `json:"scale"`
	Apps    int        `json:"apps,omitempty"` // bench -apps: the fleet's apps, and no scale
	Machine string     `json:"machine"`
	Started time.Time  `json:"started"`
	Elapsed string     `json:"elapsed"`
	Events  int        `json:"events"` // indexed after the first sync
	Rows    []benchRow `json:"rows"`
}

// benchKeys are the rows every run has, in order.
var benchKeys = []string{
	"world.time", "world.memory",
	"sync.time", "sync.rate", "bleve.rate", "sync.vsBleve",
	"rss.syncPeak", "heap.live", "rss.serving",
	"search.text", "search.newest", "search.counts",
	"cockpit.year", "cockpit.townMonth", "cockpit.cached", "baseline.bareGqlgen",
	"pages.town50",
	"storm.rate", "storm.oneSender", "storm.queryP99", "storm.queryRatio",
	"live.firstDown", "live.up", "live.down",
}

func (r *benchReport) add(row benchRow) { r.Rows = append(r.Rows, row) }

func met(ok bool) *bool { return &ok }

func num(v float64) *float64 { return &v }

// latencyRow is a row of a load run's quantile q against a target in ms (0 for
// none); the figure says how many requests failed, and a run with failures does
// not meet its target.
func latencyRow(key, measure string, res loadResult, q float64, targetMS float64, target string) benchRow {
	row := benchRow{Key: key, Measure: measure, Unit: "ms", Target: target, Requests: res.requests(), Errors: res.errors}
	d, ok := res.pct(q)
	label := fmt.Sprintf("p%.0f", q*100)
	if ok {
		row.Value = num(float64(d) / float64(time.Millisecond))
		row.Figure = fmt.Sprintf("%s %s（%.0f 次/秒）", label, ms(d), res.rate())
		if targetMS > 0 {
			row.Met = met(*row.Value < targetMS && res.errors == 0)
		}
	} else {
		row.Figure = "无成功请求"
		if targetMS > 0 {
			row.Met = met(false)
		}
	}
	if res.errors > 0 {
		row.Figure += fmt.Sprintf("，%d/%d 个请求出错", res.errors, res.requests())
		row.Note = fmt.Sprint(res.firstErr)
	}
	return row
}

// rateRow is a row of a load run's throughput.
func rateRow(key, measure string, res loadResult, target string) benchRow {
	row := benchRow{Key: key, Measure: measure, Unit: "req/s", Target: target, Requests: res.requests(), Errors: res.errors,
		Value: num(res.rate())}
	row.Figure = fmt.Sprintf("%.0f 次/秒", res.rate())
	if p99, ok := res.pct(0.99); ok {
		row.Figure += "，p99 " + ms(p99)
	}
	if res.errors > 0 {
		row.Figure += fmt.Sprintf("，%d/%d 个请求出错", res.errors, res.requests())
		row.Note = fmt.Sprint(res.firstErr)
	}
	return row
}

// print writes the table for a person.
func (r *benchReport) print(w io.Writer) {
	run := fmt.Sprintf("-scale %g", r.Scale)
	if r.Apps > 0 {
		run = fmt.Sprintf("-apps %d", r.Apps)
	}
	fmt.Fprintf(w, "\nfengqiao bench %s，%s，首次同步后索引 %d 条事件，用时 %s\n", run, r.Machine, r.Events, r.Elapsed)
	head := []string{"指标", "测得", "目标", "达标", "出错"}
	rows := [][]string{head}
	for _, row := range r.Rows {
		m := "—"
		if row.Met != nil {
			m = map[bool]string{true: "达标", false: "未达标"}[*row.Met]
		}
		errs := ""
		if row.Requests > 0 || row.Errors > 0 {
			errs = fmt.Sprintf("%d/%d", row.Errors, row.Requests)
		}
		rows = append(rows, []string{row.Measure, row.Figure, row.Target, m, errs})
	}
	widths := make([]int, len(head))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	for i, row := range rows {
		if i == 1 {
			var sep strings.Builder
			for _, width := range widths {
				sep.WriteString("|" + strings.Repeat("-", width+2))
			}
			fmt.Fprintln(w, sep.String()+"|")
		}
		var b strings.Builder
		for i, c := range row {
			b.WriteString("| ")
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+1))
		}
		fmt.Fprintln(w, b.String()+"|")
	}
}

// displayWidth counts a wide (CJK) character as two columns.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r >= 0x1100 && (r <= 0x115f || r >= 0x2e80 && r <= 0xa4cf || r >= 0xac00 && r <= 0xd7a3 || r >= 0xf900 && r <= 0xfaff || r >= 0xfe30 && r <= 0xfe4f || r >= 0xff00 && r <= 0xff60 || r >= 0xffe0 && r <= 0xffe6):
			n += 2
		default:
			n++
		}
	}
	return n
}

// write writes the report as JSON to path.
func (r *benchReport) write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
