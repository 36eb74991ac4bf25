package connectors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"fengqiao"
)

// quarantineBucket holds a connector's quarantined records, keyed by quarantineKey.
func quarantineBucket(connector string) []byte { return []byte("quarantine/" + connector) }

// quarantineAtBucket indexes a connector's quarantine by time: the key is the
// record's time (big-endian nanoseconds since 1970) and its quarantine key, the
// value its quarantine key. A cursor read from the end gives the newest first.
func quarantineAtBucket(connector string) []byte { return []byte("quarantine-at/" + connector) }

func quarantineAtKey(at time.Time, key []byte) []byte {
	var ns uint64
	if at.After(time.Unix(0, 0)) {
		ns = uint64(at.UnixNano())
	}
	return append(binary.BigEndian.AppendUint64(nil, ns), key...)
}

// quarantine is a connector's quarantine in a write transaction: its records and
// their index by time, kept together.
type quarantine struct{ records, byTime *bolt.Bucket }

func openQuarantine(tx *bolt.Tx, connector string) (quarantine, error) {
	records, err := tx.CreateBucketIfNotExists(quarantineBucket(connector))
	if err != nil {
		return quarantine{}, err
	}
	byTime, err := tx.CreateBucketIfNotExists(quarantineAtBucket(connector))
	return quarantine{records, byTime}, err
}

// put quarantines a record, replacing the one under the same key.
func (q quarantine) put(rej fengqiao.Reject) error {
	key := quarantineKey(rej)
	if err := q.delete(key); err != nil {
		return err
	}
	b, _ := json.Marshal(rej)
	if err := q.records.Put(key, b); err != nil {
		return err
	}
	return q.byTime.Put(quarantineAtKey(rej.At, key), key)
}

// delete takes the record under key, if any, out of quarantine.
func (q quarantine) delete(key []byte) error {
	v := q.records.Get(key)
	if v == nil {
		return nil
	}
	var old fengqiao.Reject
	if err := json.Unmarshal(v, &old); err != nil {
		return err
	}
	if err := q.byTime.Delete(quarantineAtKey(old.At, key)); err != nil {
		return err
	}
	return q.records.Delete(key)
}

// indexQuarantines builds the time index of the quarantines a state file written
// before it had one holds.
func indexQuarantines(tx *bolt.Tx) error {
	var connectors []string
	tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if c, ok := bytes.CutPrefix(name, []byte("quarantine/")); ok && tx.Bucket(quarantineAtBucket(string(c))) == nil {
			connectors = append(connectors, string(c))
		}
		return nil
	})
	for _, c := range connectors {
		q, err := openQuarantine(tx, c)
		if err != nil {
			return err
		}
		err = q.records.ForEach(func(k, v []byte) error {
			var r fengqiao.Reject
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			return q.byTime.Put(quarantineAtKey(r.At, k), bytes.Clone(k))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// QuarantineFirst returns up to n of a connector's quarantined records, newest
// first, reading no further; n < 0 returns them all.
func (s *State) QuarantineFirst(connector string, n int) ([]fengqiao.Reject, error) {
	var out []fengqiao.Reject
	err := s.db.View(func(tx *bolt.Tx) error {
		records, byTime := tx.Bucket(quarantineBucket(connector)), tx.Bucket(quarantineAtBucket(connector))
		if records == nil || byTime == nil {
			return nil
		}
		c := byTime.Cursor()
		for k, key := c.Last(); k != nil && (n < 0 || len(out) < n); k, key = c.Prev() {
			var r fengqiao.Reject
			if err := json.Unmarshal(records.Get(key), &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// Quarantine returns all of a connector's quarantined records, newest first.
func (s *State) Quarantine(connector string) ([]fengqiao.Reject, error) {
	return s.QuarantineFirst(connector, -1)
}

// QuarantineFirst implements fengqiao.SyncService.
func (r *Runner) QuarantineFirst(connector string, n int) ([]fengqiao.Reject, error) {
	return r.State.QuarantineFirst(connector, n)
}
