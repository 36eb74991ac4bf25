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

// progress returns a progress report for a step, shown on m.Stderr.
func (m *Main) progress(what string) *progress {
	p := &progress{what: what, out: m.Stderr, every: 200 * time.Millisecond, now: time.Now}
	if f, ok := m.Stderr.(*os.File); !ok || !isTerminal(f) {
		p.log, p.every = m.logger(), 5*time.Second
	}
	p.start = p.now()
	return p
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Report is told that done of total steps are done.
func (p *progress) Report(done, total int) {
	now := p.now()
	last := done >= total
	if !last && now.Sub(p.reported) < p.every {
		return
	}
	p.reported = now
	elapsed := now.Sub(p.start)
	rate := float64(done) / max(elapsed.Seconds(), 1e-3)
	left := time.Duration(float64(total-done) / max(rate, 1e-9) * float64(time.Second)).Round(time.Second)
	if p.log != nil {
		p.log.Info("progress", "step", p.what, "done", done, "total", total, "rate", int(rate),
			"elapsed", elapsed.Round(time.Millisecond), "left", left)
		return
	}
	fmt.Fprintf(p.out, "\r%s %d/%d (%d%%) %.0f/秒 ", p.what, done, total, done*100/max(total, 1), rate)
	if last {
		fmt.Fprintf(p.out, "用时 %.1f 秒\n", elapsed.Seconds())
	} else {
		fmt.Fprintf(p.out, "约剩 %v   ", left)
	}
}
