package main

import (
	"context"
	"time"

	"fengqiao"
)

// showCatchUp shows the connectors' catching up after start as one progress line
// (records read by all connectors, of how many when every upstream says how many
// are left), until every connector has caught up or ctx ends. Each connector's
// own progress is in /healthz and in the runner's log.
func (m *Main) showCatchUp(ctx context.Context, hub *Hub) {
	p := m.progress("首次同步")
	seen := map[string]fengqiao.SyncProgress{}
	read := 0
	for !hub.Runner.Ready() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
		now := hub.Runner.Progress()
		for name, c := range seen {
			if _, ok := now[name]; !ok { // caught up: all it read is done
				c.Total, c.Remaining = c.Read, 0
				seen[name] = c
			}
		}
		for name, c := range now {
			seen[name] = *c
		}
		if len(seen) == 0 {
			continue
		}
		total := 0
		read = 0
		for _, c := range seen {
			read += c.Read
			if c.Total < 0 || total < 0 {
				total = -1
			} else {
				total += c.Total
			}
		}
		p.Report(read, total)
	}
	if read > 0 {
		p.Finish(read)
	}
}
