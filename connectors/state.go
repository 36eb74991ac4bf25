package connectors

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"fengqiao"
)

// State persists each connector's cursor, counters and quarantine in one bbolt file.
// A batch's cursor, counts and quarantine entries are committed in one transaction.
type State struct {
	db *bolt.DB
}

var (
	bucketCursors = []byte("cursors")
	bucketStats   = []byte("stats")
)

func quarantineBucket(connector string) []byte { return []byte("quarantine/" + connector) }

// stats are a connector's persisted counters.
type stats struct {
	RecordsIn     int        `json:"recordsIn"`
	LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
}

// OpenState opens (or creates) the state file at path.
func OpenState(path string) (*State, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open sync state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCursors, bucketStats} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &State{db: db}, nil
}

// Close closes the state file.
func (s *State) Close() error { return s.db.Close() }

// Cursor returns the connector's persisted cursor, "" before its first batch.
func (s *State) Cursor(connector string) (string, error) {
	var c string
	err := s.db.View(func(tx *bolt.Tx) error {
		c = string(tx.Bucket(bucketCursors).Get([]byte(connector)))
		return nil
	})
	return c, err
}

// batchResult is what one indexed batch changes in a connector's state.
type batchResult struct {
	cursor   string
	indexed  []*fengqiao.Event
	rejected []fengqiao.Reject
	at       time.Time
}

// commit records an indexed batch: the new cursor, the counters, the rejected
// records into quarantine, and releases from quarantine the records that now came
// in clean.
func (s *State) commit(connector string, r batchResult) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketCursors).Put([]byte(connector), []byte(r.cursor)); err != nil {
			return err
		}
		q, err := tx.CreateBucketIfNotExists(quarantineBucket(connector))
		if err != nil {
			return err
		}
		for _, e := range r.indexed {
			if err := q.Delete([]byte(e.SourceID)); err != nil {
				return err
			}
		}
		for _, rej := range r.rejected {
			b, _ := json.Marshal(rej)
			if err := q.Put(quarantineKey(rej), b); err != nil {
				return err
			}
		}
		st := readStats(tx, connector)
		st.RecordsIn += len(r.indexed)
		st.LastSuccessAt = &r.at
		b, _ := json.Marshal(st)
		return tx.Bucket(bucketStats).Put([]byte(connector), b)
	})
}

// quarantineKey keys a reject by its source id, so that a replay replaces it; a
// record too broken to have one is keyed by its content, so none overwrites another.
func quarantineKey(r fengqiao.Reject) []byte {
	if r.SourceID != "" {
		return []byte(r.SourceID)
	}
	sum := sha256.Sum256([]byte(r.Raw))
	return []byte("raw:" + hex.EncodeToString(sum[:8]))
}

func readStats(tx *bolt.Tx, connector string) stats {
	var st stats
	if b := tx.Bucket(bucketStats).Get([]byte(connector)); b != nil {
		json.Unmarshal(b, &st)
	}
	return st
}

// load fills the persisted parts of a connector's state.
func (s *State) load(st *fengqiao.ConnectorState) error {
	return s.db.View(func(tx *bolt.Tx) error {
		st.Cursor = string(tx.Bucket(bucketCursors).Get([]byte(st.Name)))
		saved := readStats(tx, st.Name)
		st.RecordsIn, st.LastSuccessAt = saved.RecordsIn, saved.LastSuccessAt
		if q := tx.Bucket(quarantineBucket(st.Name)); q != nil {
			st.Quarantined = q.Stats().KeyN
		}
		return nil
	})
}

// Quarantine returns a connector's quarantined records, newest first.
func (s *State) Quarantine(connector string) ([]fengqiao.Reject, error) {
	var out []fengqiao.Reject
	err := s.db.View(func(tx *bolt.Tx) error {
		q := tx.Bucket(quarantineBucket(connector))
		if q == nil {
			return nil
		}
		return q.ForEach(func(_, v []byte) error {
			var r fengqiao.Reject
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out, err
}
