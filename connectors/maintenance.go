package connectors

import (
	"context"
	"encoding/json"
	"time"

	"fengqiao"
)

// ReplayQuarantine implements fengqiao.SyncMaintenance: it takes every record out
// of a connector's quarantine and maps it again with the connector's current
// mapping (a record quarantined as mapped is checked again as it is), then
// indexes it as a batch would — those still refused go back with their new
// reason. It holds the connector's sync meanwhile (EUNAVAILABLE if ctx ends
// while a batch holds it); the cursor stays.
func (r *Runner) ReplayQuarantine(ctx context.Context, name string) (fengqiao.ReplayResult, error) {
	out := fengqiao.ReplayResult{Connector: name}
	l, err := r.lockNamed(ctx, name)
	if err != nil {
		return out, err
	}
	defer r.unlock(l)
	r.mu.Lock()
	c := l.connector
	r.mu.Unlock()
	remapper, ok := c.(fengqiao.Remapper)
	if !ok {
		return out, fengqiao.Errorf(fengqiao.EINVALID, "%s 不支持重放隔离记录：只有按清单接入的应用能用新的映射重新处理", name)
	}
	keys, records, err := r.State.quarantineKeyed(name)
	if err != nil || len(records) == 0 {
		return out, err
	}
	var raws []string
	var mapped []*fengqiao.Event
	for _, rec := range records {
		var e fengqiao.Event
		if rec.Mapped && json.Unmarshal([]byte(rec.Raw), &e) == nil && e.ID != "" {
			mapped = append(mapped, &e)
			continue
		}
		raws = append(raws, rec.Raw)
	}
	batch := remapper.Remap(raws)
	batch.Events = append(batch.Events, mapped...)
	res, err := r.ingest(ctx, c, batch, keys)
	if err != nil {
		return out, err
	}
	out.Replayed, out.Quarantined, out.Pending = len(records), len(res.rejected), len(res.parked)
	out.Indexed = res.recordsIn[name]
	if r.Indexed != nil && len(res.indexed) > 0 {
		r.Indexed(res.indexed)
	}
	if r.Log != nil {
		r.Log.Info("隔离记录已重放", "connector", name, "replayed", out.Replayed, "indexed", out.Indexed, "quarantined", out.Quarantined, "pending", out.Pending)
	}
	return out, nil
}

// ResetCursor implements fengqiao.SyncMaintenance: the connector's next sync
// reads again every change since from (the index absorbs what it already holds),
// and starts at once. EUNAVAILABLE if ctx ends while a batch holds the sync.
func (r *Runner) ResetCursor(ctx context.Context, name string, from time.Time) (string, error) {
	l, err := r.lockNamed(ctx, name)
	if err != nil {
		return "", err
	}
	defer r.unlock(l)
	r.mu.Lock()
	c := l.connector
	r.mu.Unlock()
	rw, ok := c.(fengqiao.Rewinder)
	if !ok {
		return "", fengqiao.Errorf(fengqiao.EINVALID, "%s 的游标不能按时间重置", name)
	}
	if from.After(time.Now()) {
		return "", fengqiao.Errorf(fengqiao.EINVALID, "重读起点 %s 在未来", from.In(CST).Format(time.DateTime))
	}
	cursor, err := rw.CursorFrom(from)
	if err != nil {
		return "", err
	}
	if err := r.State.SetCursor(name, cursor); err != nil {
		return "", err
	}
	r.mu.Lock()
	l.caughtUp = false
	r.mu.Unlock()
	select {
	case l.changed <- struct{}{}: // sync at once
	default:
	}
	if r.Log != nil {
		r.Log.Info("同步游标已重置", "connector", name, "from", from, "cursor", cursor)
	}
	return cursor, nil
}

var _ fengqiao.SyncMaintenance = (*Runner)(nil)
