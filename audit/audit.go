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
func (l *Log) Record(ctx context.Context, e fengqiao.AuditEntry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return l.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		seq, _ := b.NextSequence()
		return b.Put(binary.BigEndian.AppendUint64(nil, seq), v)
	})
}

// Entries implements fengqiao.AuditLog.
func (l *Log) Entries(ctx context.Context, f fengqiao.AuditFilter, limit int) ([]fengqiao.AuditEntry, error) {
	var out []fengqiao.AuditEntry
	err := l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var e fengqiao.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if f.PrincipalID != nil && e.PrincipalID != *f.PrincipalID || f.Subject != nil && e.Subject != *f.Subject {
				continue
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
