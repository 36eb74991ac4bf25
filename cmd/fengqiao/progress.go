package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
)

// progress shows how far a long step has come. On a terminal it rewrites one line
// (done / total, rate, time left) a few times a second; elsewhere it logs the same
// as structured fields every few seconds. The last report (done == total) is
// always shown.
type progress struct {
	what     string // 生成模拟世界, …: what is being done, for people
	out      io.Writer
	log      *slog.Logger // when out is not a terminal
	every    time.Duration
	now      func() time.Time
	start    time.Time
	reported time.Time
}

// progress returns a progress report for a step, shown on m.Stderr: a line on
// a terminal, else structured log records.
func (m *Main) progress(what string) *progress {
	var log *slog.Logger
	if f, ok := m.Stderr.(*os.File); !ok || !isTerminal(f) {
		log = m.logger()
	}
	return newProgress(what, m.Stderr, log)
}

// newProgress returns a progress report for a step: logged to log every few
// seconds when log is set, else a line on out rewritten a few times a second.
func newProgress(what string, out io.Writer, log *slog.Logger) *progress {
	p := &progress{what: what, out: out, log: log, every: 200 * time.Millisecond, now: time.Now}
	if log != nil {
		p.every = 5 * time.Second
	}
	p.start = p.now()
	return p
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Report is told that done of total steps are done; a total below 0 is not known
// (an upstream that does not say how many records are left): the line then shows
// what is done and the rate, and says so.
func (p *progress) Report(done, total int) {
	now := p.now()
	last := total >= 0 && done >= total
	if !last && now.Sub(p.reported) < p.every {
		return
	}
	p.show(now, done, total, last)
}

// Finish shows the last report, done steps done, whatever the total.
func (p *progress) Finish(done int) { p.show(p.now(), done, done, true) }

func (p *progress) show(now time.Time, done, total int, last bool) {
	p.reported = now
	elapsed := now.Sub(p.start)
	rate := float64(done) / max(elapsed.Seconds(), 1e-3)
	left := time.Duration(float64(total-done) / max(rate, 1e-9) * float64(time.Second)).Round(time.Second)
	if p.log != nil {
		if total < 0 {
			p.log.Info("progress", "step", p.what, "done", done, "total", "unknown", "rate", int(rate),
				"elapsed", elapsed.Round(time.Millisecond))
			return
		}
		if done == 0 && !last { // no rate yet, so no time left to tell
			p.log.Info("progress", "step", p.what, "done", done, "total", total, "rate", 0,
				"elapsed", elapsed.Round(time.Millisecond))
			return
		}
		p.log.Info("progress", "step", p.what, "done", done, "total", total, "rate", int(rate),
			"elapsed", elapsed.Round(time.Millisecond), "left", left)
		return
	}
	if total < 0 {
		fmt.Fprintf(p.out, "\r%s %d 条 %.0f/秒（总数未知）  ", p.what, done, rate)
		return
	}
	fmt.Fprintf(p.out, "\r%s %d/%d (%d%%) %.0f/秒 ", p.what, done, total, done*100/max(total, 1), rate)
	if last {
		fmt.Fprintf(p.out, "用时 %.1f 秒\n", elapsed.Seconds())
	} else if done > 0 {
		fmt.Fprintf(p.out, "约剩 %v   ", left)
	}
}
