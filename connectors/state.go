package connectors

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"fengqiao"
)

// State persists each connector's cursor, counters and quarantine in one bbolt file.
// A batch's cursor, counts and quarantine entries are committed in one transaction.
type State struct {
	db *bolt.DB

	enqueues  chan *enqueue // calls of Enqueue, handed to commitEnqueues
	closing   chan struct{} // closed by Close
	committed chan struct{} // closed when commitEnqueues has returned
	closeOnce sync.Once
}

var (
	bucketCursors  = []byte("cursors")
	bucketStats    = []byte("stats")
	bucketProjects = []byte("projects")
)

// pendingBucket holds a connector's events waiting for the event they refer to,
// keyed by that event's id, a NUL, and their own id.
func pendingBucket(connector string) []byte { return []byte("pending/" + connector) }

func pendingKey(e *fengqiao.Event) []byte { return []byte(e.RefersTo + "\x00" + e.ID) }

// stats are a connector's persisted counters.
type stats struct {
	RecordsIn     int        `json:"recordsIn"`
	LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
	// NewestRecordAt is the newest record time (recordTime) of the records taken in.
	NewestRecordAt *time.Time `json:"newestRecordAt,omitempty"`
}

// OpenState opens (or creates) the state file at path.
func OpenState(path string) (*State, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open sync state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCursors, bucketStats, bucketProjects} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return indexQuarantines(tx)
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &State{db: db, enqueues: make(chan *enqueue), closing: make(chan struct{}), committed: make(chan struct{})}
	go s.commitEnqueues()
	return s, nil
}

// Close closes the state file, once the transaction being committed for Enqueue
// has ended; a later Enqueue fails.
func (s *State) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	<-s.committed
	return s.db.Close()
}

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
	projects []*fengqiao.Project
	parked   []*fengqiao.Event // waiting for the event they refer to
	released []pendingRef      // waited, and are indexed now
	stale    int               // older than the version indexed, dropped
	// unchanged counts the records read again exactly as they are stored (an
	// unchanged page read again): not indexed, not counted as taken in.
	unchanged int
	// clean are the source ids of unchanged events, released from quarantine
	// like those indexed: they came in clean.
	clean []string
	// recordsIn counts the records taken in, by the connector that read them (a
	// released event counts for the connector it waited for, not this one).
	recordsIn map[string]int
	// newest is the newest record time (recordTime) of the events indexed, by connector.
	newest map[string]time.Time
	at     time.Time
	// replayed are the quarantine keys of the records a replay took out: they
	// leave quarantine before what the replay refused again goes back in. A
	// replay keeps the cursor and the last success as they are.
	replayed [][]byte
	replay   bool
}

// pendingRef locates a waiting event in the state.
type pendingRef struct{ bucket, key []byte }

// connector names the connector that read the waiting event.
func (p pendingRef) connector() string { return strings.TrimPrefix(string(p.bucket), "pending/") }

// pendingEvent is a waiting event whose target has arrived.
type pendingEvent struct {
	ref    pendingRef
	event  *fengqiao.Event
	target *fengqiao.Event
}

// commit records an indexed batch: the new cursor, the counters, the rejected
// records into quarantine, and releases from quarantine the records that now came
// in clean.
func (s *State) commit(connector string, r batchResult) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if !r.replay {
			if err := tx.Bucket(bucketCursors).Put([]byte(connector), []byte(r.cursor)); err != nil {
				return err
			}
		}
		q, err := openQuarantine(tx, connector)
		if err != nil {
			return err
		}
		for _, k := range r.replayed {
			if err := q.delete(k); err != nil {
				return err
			}
		}
		for _, e := range r.indexed {
			if err := q.delete([]byte(e.SourceID)); err != nil {
				return err
			}
		}
		for _, id := range r.clean {
			if err := q.delete([]byte(id)); err != nil {
				return err
			}
		}
		for _, rej := range r.rejected {
			if err := q.put(rej); err != nil {
				return err
			}
		}
		if err := putJSON(tx.Bucket(bucketProjects), r.projects, func(p *fengqiao.Project) []byte { return []byte(p.Code) }); err != nil {
			return err
		}
		pending, err := tx.CreateBucketIfNotExists(pendingBucket(connector))
		if err != nil {
			return err
		}
		if err := putJSON(pending, r.parked, pendingKey); err != nil {
			return err
		}
		for _, ref := range r.released {
			if b := tx.Bucket(ref.bucket); b != nil {
				if err := b.Delete(ref.key); err != nil {
					return err
				}
			}
		}
		for name, n := range r.recordsIn {
			st := readStats(tx, name)
			st.RecordsIn += n
			if t, ok := r.newest[name]; ok && (st.NewestRecordAt == nil || t.After(*st.NewestRecordAt)) {
				st.NewestRecordAt = &t
			}
			if err := writeStats(tx, name, st); err != nil {
				return err
			}
		}
		if r.replay {
			return nil
		}
		st := readStats(tx, connector)
		st.LastSuccessAt = &r.at
		return writeStats(tx, connector, st)
	})
}

// SetCursor replaces a connector's cursor (an operator's reset); the runner
// holds the connector's sync while it does, so no batch commits over it.
func (s *State) SetCursor(connector, cursor string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCursors).Put([]byte(connector), []byte(cursor))
	})
}

// quarantineKeyed returns a connector's quarantined records with their keys.
func (s *State) quarantineKeyed(connector string) ([][]byte, []fengqiao.Reject, error) {
	var keys [][]byte
	var out []fengqiao.Reject
	err := s.db.View(func(tx *bolt.Tx) error {
		q := tx.Bucket(quarantineBucket(connector))
		if q == nil {
			return nil
		}
		return q.ForEach(func(k, v []byte) error {
			var r fengqiao.Reject
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			keys, out = append(keys, bytes.Clone(k)), append(out, r)
			return nil
		})
	})
	return keys, out, err
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

func writeStats(tx *bolt.Tx, connector string, st stats) error {
	b, _ := json.Marshal(st)
	return tx.Bucket(bucketStats).Put([]byte(connector), b)
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
		st.RecordsIn, st.LastSuccessAt, st.NewestRecordAt = saved.RecordsIn, saved.LastSuccessAt, saved.NewestRecordAt
		if q := tx.Bucket(quarantineBucket(st.Name)); q != nil {
			st.Quarantined = q.Stats().KeyN
		}
		if p := tx.Bucket(pendingBucket(st.Name)); p != nil {
			st.Pending = p.Stats().KeyN
		}
		return nil
	})
}

func putJSON[T any](b *bolt.Bucket, items []T, key func(T) []byte) error {
	for _, it := range items {
		v, err := json.Marshal(it)
		if err != nil {
			return err
		}
		if err := b.Put(key(it), v); err != nil {
			return err
		}
	}
	return nil
}

// pendingFor returns the events of any connector that wait for one of targets.
func (s *State) pendingFor(targets []*fengqiao.Event) ([]pendingEvent, error) {
	var out []pendingEvent
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if !bytes.HasPrefix(name, []byte("pending/")) {
				return nil
			}
			c := b.Cursor()
			for _, t := range targets {
				prefix := []byte(t.ID + "\x00")
				for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
					var e fengqiao.Event
					if err := json.Unmarshal(v, &e); err != nil {
						return err
					}
					out = append(out, pendingEvent{ref: pendingRef{bucket: bytes.Clone(name), key: bytes.Clone(k)}, event: &e, target: t})
				}
			}
			return nil
		})
	})
	return out, err
}

// Projects returns every key project read so far.
func (s *State) Projects() ([]*fengqiao.Project, error) {
	var out []*fengqiao.Project
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketProjects).ForEach(func(_, v []byte) error {
			var p fengqiao.Project
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			out = append(out, &p)
			return nil
		})
	})
	return out, err
}

// Project returns the key project with the given code, or ENOTFOUND.
func (s *State) Project(code string) (*fengqiao.Project, error) {
	var p *fengqiao.Project
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketProjects).Get([]byte(code))
		if v == nil {
			return fengqiao.Errorf(fengqiao.ENOTFOUND, "重点项目不存在：%s", code)
		}
		p = &fengqiao.Project{}
		return json.Unmarshal(v, p)
	})
	return p, err
}

// Item is a value to enqueue under a key.
type Item struct {
	Key   string
	Value []byte
}

// Enqueue appends to a queue, durably and under consecutive sequence numbers, each
// item whose key was not enqueued to that queue before and is not forgotten yet
// (see Forget); a key repeated within items is enqueued once, the first time. The
// keys are remembered in the same transaction as the values, so a resend after a
// crash is still known. It reports, item by item, whether the value was enqueued;
// when it returns without error the transaction holding them is on disk.
//
// Concurrent calls share transactions (group commit): one goroutine commits, in
// one transaction and one sync, every call that arrived while it was committing
// the last, so a storm of pushes costs few disk syncs and a lone caller waits for
// one sync, never for a timer. A call's items are always in one transaction.
func (s *State) Enqueue(queue string, items []Item, at time.Time) (enqueued []bool, err error) {
	e := &enqueue{queue: queue, items: items, at: at, done: make(chan error, 1)}
	select {
	case s.enqueues <- e:
	case <-s.closing:
		return nil, errStateClosed
	}
	if err := <-e.done; err != nil {
		return nil, err
	}
	return e.enqueued, nil
}

var errStateClosed = errors.New("sync state closed")

// enqueue is one call of Enqueue waiting for its transaction.
type enqueue struct {
	queue    string
	items    []Item
	at       time.Time
	enqueued []bool
	done     chan error
}

// maxGroupItems bounds the items of one group commit (one call may hold more and
// is then committed alone).
const maxGroupItems = 8192

// commitEnqueues commits the calls of Enqueue until the state is closed: it takes
// the first waiting call, every other call already waiting, and commits them
// together.
func (s *State) commitEnqueues() {
	defer close(s.committed)
	for {
		var group []*enqueue
		select {
		case e := <-s.enqueues:
			group = append(group, e)
		case <-s.closing:
			return
		}
		n := len(group[0].items)
	gather:
		for n < maxGroupItems {
			select {
			case e := <-s.enqueues:
				group = append(group, e)
				n += len(e.items)
			default:
				break gather
			}
		}
		err := s.db.Update(func(tx *bolt.Tx) error { return applyEnqueues(tx, group) })
		if err != nil && len(group) > 1 {
			// One call's failure must not fail the others: each alone.
			for _, e := range group {
				e.done <- s.db.Update(func(tx *bolt.Tx) error { return applyEnqueues(tx, []*enqueue{e}) })
			}
			continue
		}
		for _, e := range group {
			e.done <- err
		}
	}
}

// applyEnqueues writes a group of calls in tx, filling in what each enqueued.
func applyEnqueues(tx *bolt.Tx, group []*enqueue) error {
	for _, e := range group {
		e.enqueued = make([]bool, len(e.items)) // a failed group is applied again, call by call
		keys, err := tx.CreateBucketIfNotExists([]byte(e.queue + "/keys"))
		if err != nil {
			return err
		}
		byTime, err := tx.CreateBucketIfNotExists([]byte(e.queue + "/keys-by-time"))
		if err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists([]byte(e.queue))
		if err != nil {
			return err
		}
		stamp := binary.BigEndian.AppendUint64(nil, uint64(e.at.UnixNano()))
		for i, it := range e.items {
			sum := sha256.Sum256([]byte(it.Key)) // any length of key fits
			if keys.Get(sum[:]) != nil {
				continue
			}
			if err := keys.Put(sum[:], stamp); err != nil {
				return err
			}
			if err := byTime.Put(append(bytes.Clone(stamp), sum[:]...), []byte{}); err != nil {
				return err
			}
			seq, _ := b.NextSequence()
			if err := b.Put(seqKey(seq), it.Value); err != nil {
				return err
			}
			e.enqueued[i] = true
		}
	}
	return nil
}

// Forget drops the keys of a queue enqueued before t: a value under one of them
// may be enqueued again.
func (s *State) Forget(queue string, before time.Time) error {
	limit := binary.BigEndian.AppendUint64(nil, uint64(before.UnixNano()))
	return s.db.Update(func(tx *bolt.Tx) error {
		keys, byTime := tx.Bucket([]byte(queue+"/keys")), tx.Bucket([]byte(queue+"/keys-by-time"))
		if keys == nil || byTime == nil {
			return nil
		}
		c := byTime.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], limit) < 0; k, _ = c.First() {
			if err := keys.Delete(k[8:]); err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// Queued is one value of a queue.
type Queued struct {
	Seq   uint64
	Value []byte
}

// Dequeue returns at most limit values of a queue after sequence number after;
// it removes nothing (see Trim).
func (s *State) Dequeue(queue string, after uint64, limit int) ([]Queued, error) {
	var out []Queued
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(queue))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			out = append(out, Queued{Seq: binary.BigEndian.Uint64(k), Value: bytes.Clone(v)})
		}
		return nil
	})
	return out, err
}

// Trim removes the values of a queue up to sequence number upTo, inclusive.
func (s *State) Trim(queue string, upTo uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(queue))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= upTo; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// Len returns how many keys a bucket holds.
func (s *State) Len(bucket string) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(bucket)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// Load reads the JSON value at key of a bucket into v, reporting whether it exists.
func (s *State) Load(bucket, key string, v any) (bool, error) {
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		raw := b.Get([]byte(key))
		if raw == nil {
			return nil
		}
		found = true
		return json.Unmarshal(raw, v)
	})
	return found, err
}

// Save writes values as JSON under their keys in a bucket, in one transaction.
func (s *State) Save(bucket string, values map[string]any) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		for k, v := range values {
			raw, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(k), raw); err != nil {
				return err
			}
		}
		return nil
	})
}
