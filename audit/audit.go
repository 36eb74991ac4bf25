// Package audit keeps the audit log of looks at personal data in an append-only
// bbolt file: entries are added under increasing sequence numbers and nothing in
// fengqiao deletes or changes them.
package audit

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"fengqiao"
)

// Log is the audit log.
type Log struct{ db *bolt.DB }

var _ fengqiao.AuditLog = (*Log)(nil)

var bucket = []byte("entries")

// Open opens (or creates) the log at path.
func Open(path string) (*Log, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(bucket); return err }); err != nil {
		db.Close()
		return nil, err
	}
	return &Log{db: db}, nil
}

// Close closes the log.
func (l *Log) Close() error { return l.db.Close() }

// Record implements fengqiao.AuditLog. Concurrent records are committed together.
func (l *Log) Record(ctx context.Context, entries ...fengqiao.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return l.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for _, e := range entries {
			e.Seq, _ = b.NextSequence()
			v, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := b.Put(binary.BigEndian.AppendUint64(nil, e.Seq), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Entries implements fengqiao.AuditLog. It walks back from before; filters are
// applied as it goes, and the read stops when ctx ends.
func (l *Log) Entries(ctx context.Context, f fengqiao.AuditFilter, before uint64, limit int) ([]fengqiao.AuditEntry, bool, error) {
	var out []fengqiao.AuditEntry
	more := false
	err := l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		k, v := c.Last()
		if before > 0 {
			k, v = c.Seek(binary.BigEndian.AppendUint64(nil, before))
			if k == nil {
				k, v = c.Last()
			}
			for k != nil && binary.BigEndian.Uint64(k) >= before {
				k, v = c.Prev()
			}
		}
		for n := 0; k != nil; k, v = c.Prev() {
			if n++; n%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			var e fengqiao.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			e.Seq = binary.BigEndian.Uint64(k)
			if !f.Matches(e) {
				continue
			}
			if len(out) == limit {
				more = true
				return nil
			}
			out = append(out, e)
		}
		return nil
	})
	return out, more, err
}
