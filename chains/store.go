// Package chains links events of the same matter into chains (类案串联) as they are
// ingested, by evidence the hub can explain: the same key project, organization,
// building or person (with a similar complaint), or one event being about another.
// It keeps its state in one bbolt file; linking an event costs a bounded number of
// key lookups whatever the size of the index.
package chains

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"fengqiao"
)

// Store is the chain state: evidence postings, event signatures, links, chains.
type Store struct {
	db   *bolt.DB
	tree *fengqiao.OrgTree
}

var (
	_ fengqiao.Linker       = (*Store)(nil)
	_ fengqiao.ChainService = (*Store)(nil)
)

var (
	bucketPostings = []byte("postings") // evidence key \0 reported (8 bytes) event id → ""
	bucketSigs     = []byte("sigs")     // event id → signature
	bucketLinks    = []byte("links")    // event id \0 other id → link
	bucketMember   = []byte("member")   // event id → chain id
	bucketChains   = []byte("chains")   // chain id → chain record
	bucketMembers  = []byte("members")  // chain id \0 event id → ""
	bucketAlias    = []byte("alias")    // absorbed chain id → chain id
)

// candidatesPerKey bounds how many recent events of one key a new event is
// compared with: the cost of linking does not grow with the index.
const candidatesPerKey = 64

// Open opens (or creates) the chain state at path.
func Open(path string, tree *fengqiao.OrgTree) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("open chain state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketPostings, bucketSigs, bucketLinks, bucketMember, bucketChains, bucketMembers, bucketAlias} {
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
	return &Store{db: db, tree: tree}, nil
}

// Close closes the state.
func (s *Store) Close() error { return s.db.Close() }

// signature is what linking needs to know of an event already seen.
type signature struct {
	Reported int64           `json:"r"` // Unix seconds
	Source   fengqiao.Source `json:"o"`
	Shingles []uint32        `json:"s"`
}

type chainRecord struct {
	ID      string    `json:"id"`
	Size    int       `json:"size"`
	Created time.Time `json:"created"`
}

type linkRecord struct {
	Reasons    []string `json:"reasons"`
	Confidence float64  `json:"confidence"`
}

// Link implements fengqiao.Linker: each event is compared with recent events that
// share evidence with it, linked to those the rules accept, and its chain merged
// with theirs. All of a batch is one transaction.
func (s *Store) Link(ctx context.Context, events []*fengqiao.Event) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, e := range events {
			if err := s.link(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) link(tx *bolt.Tx, e *fengqiao.Event) error {
	sig := signature{Reported: e.ReportedAt.Unix(), Source: e.Source, Shingles: s.titleShingles(e)}
	raw, _ := json.Marshal(sig)
	if err := tx.Bucket(bucketSigs).Put([]byte(e.ID), raw); err != nil {
		return err
	}
	postings, sigs := tx.Bucket(bucketPostings), tx.Bucket(bucketSigs)
	found := map[string]*linkRecord{}
	for _, ev := range s.evidenceOf(e) {
		rule := rules[ev.kind]
		prefix := append([]byte(ev.key), 0)
		c := postings.Cursor()
		// Walk the key's postings newest first, at most candidatesPerKey.
		k, _ := c.Seek(append(bytes.Clone(prefix), 0xff))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for n := 0; k != nil && bytes.HasPrefix(k, prefix) && n < candidatesPerKey; k, _ = c.Prev() {
			n++
			other := string(k[len(prefix)+8:])
			if other == e.ID {
				continue
			}
			when := int64(binary.BigEndian.Uint64(k[len(prefix) : len(prefix)+8]))
			if abs(when-sig.Reported) > int64(rule.window.Seconds()) {
				continue
			}
			if rule.accepts != nil {
				var os signature
				if json.Unmarshal(sigs.Get([]byte(other)), &os) != nil || !rule.accepts(&sig, &os) {
					continue
				}
			}
			l := found[other]
			if l == nil {
				l = &linkRecord{}
				found[other] = l
			}
			reason := rule.reason + "：" + ev.label
			if ev.kind == byPerson || ev.kind == byRefersTo {
				reason = rule.reason
			}
			if !contains(l.Reasons, reason) {
				l.Reasons = append(l.Reasons, reason)
				// Independent evidence adds up: 1 - Π(1 - c).
				l.Confidence = 1 - (1-l.Confidence)*(1-rule.confidence)
			}
		}
		key := append(append(prefix, binary.BigEndian.AppendUint64(nil, uint64(sig.Reported))...), e.ID...)
		if err := postings.Put(key, nil); err != nil {
			return err
		}
	}
	for other, l := range found {
		raw, _ := json.Marshal(l)
		for _, pair := range [][2]string{{e.ID, other}, {other, e.ID}} {
			if err := tx.Bucket(bucketLinks).Put([]byte(pair[0]+"\x00"+pair[1]), raw); err != nil {
				return err
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	members := []string{e.ID}
	for other := range found {
		members = append(members, other)
	}
	sort.Strings(members)
	return s.join(tx, members, e.ReportedAt)
}

// join puts events into one chain: the largest of their chains absorbs the
// others (whose IDs become aliases), or a new chain is made.
func (s *Store) join(tx *bolt.Tx, events []string, at time.Time) error {
	member, chains := tx.Bucket(bucketMember), tx.Bucket(bucketChains)
	var survivor *chainRecord
	others := map[string]*chainRecord{}
	var loose []string
	for _, id := range events {
		cid := member.Get([]byte(id))
		if cid == nil {
			loose = append(loose, id)
			continue
		}
		var ch chainRecord
		if err := json.Unmarshal(chains.Get(cid), &ch); err != nil {
			return err
		}
		others[ch.ID] = &ch
	}
	for _, ch := range others {
		if survivor == nil || ch.Size > survivor.Size || ch.Size == survivor.Size && ch.ID < survivor.ID {
			survivor = ch
		}
	}
	if survivor == nil {
		survivor = &chainRecord{ID: "CH" + strings.ToUpper(shortHash(events[0])), Created: at}
	}
	delete(others, survivor.ID)
	add := func(id string) error {
		survivor.Size++
		if err := member.Put([]byte(id), []byte(survivor.ID)); err != nil {
			return err
		}
		return tx.Bucket(bucketMembers).Put([]byte(survivor.ID+"\x00"+id), nil)
	}
	for _, id := range loose {
		if err := add(id); err != nil {
			return err
		}
	}
	for _, ch := range others {
		for _, id := range s.members(tx, ch.ID) {
			if err := add(id); err != nil {
				return err
			}
			if err := tx.Bucket(bucketMembers).Delete([]byte(ch.ID + "\x00" + id)); err != nil {
				return err
			}
		}
		if err := chains.Delete([]byte(ch.ID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAlias).Put([]byte(ch.ID), []byte(survivor.ID)); err != nil {
			return err
		}
	}
	raw, _ := json.Marshal(survivor)
	return chains.Put([]byte(survivor.ID), raw)
}

func (s *Store) members(tx *bolt.Tx, chainID string) []string {
	var out []string
	prefix := []byte(chainID + "\x00")
	c := tx.Bucket(bucketMembers).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, string(k[len(prefix):]))
	}
	return out
}

// resolve follows aliases to the chain that absorbed id.
func resolve(tx *bolt.Tx, id string) string {
	for range 64 {
		next := tx.Bucket(bucketAlias).Get([]byte(id))
		if next == nil {
			return id
		}
		id = string(next)
	}
	return id
}

func (s *Store) chain(tx *bolt.Tx, id string) (*fengqiao.Chain, error) {
	raw := tx.Bucket(bucketChains).Get([]byte(resolve(tx, id)))
	if raw == nil {
		return nil, fengqiao.Errorf(fengqiao.ENOTFOUND, "案件串联不存在：%s", id)
	}
	var ch chainRecord
	if err := json.Unmarshal(raw, &ch); err != nil {
		return nil, err
	}
	return &fengqiao.Chain{ID: ch.ID, EventIDs: s.members(tx, ch.ID), Created: ch.Created}, nil
}

// ChainOf implements fengqiao.ChainService.
func (s *Store) ChainOf(ctx context.Context, eventID string) (*fengqiao.Chain, error) {
	var out *fengqiao.Chain
	err := s.db.View(func(tx *bolt.Tx) error {
		cid := tx.Bucket(bucketMember).Get([]byte(eventID))
		if cid == nil {
			return nil
		}
		var err error
		out, err = s.chain(tx, string(cid))
		return err
	})
	return out, err
}

// Chain implements fengqiao.ChainService.
func (s *Store) Chain(ctx context.Context, id string) (*fengqiao.Chain, error) {
	var out *fengqiao.Chain
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = s.chain(tx, id)
		return err
	})
	return out, err
}

// Chains implements fengqiao.ChainService.
func (s *Store) Chains(ctx context.Context, f fengqiao.ChainFilter, limit int) ([]*fengqiao.Chain, error) {
	minSize := max(f.MinSize, 2)
	var records []chainRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChains).ForEach(func(_, v []byte) error {
			var ch chainRecord
			if err := json.Unmarshal(v, &ch); err != nil {
				return err
			}
			if ch.Size >= minSize {
				records = append(records, ch)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(records, func(i, j int) bool {
		if records[i].Size != records[j].Size {
			return records[i].Size > records[j].Size
		}
		return records[i].ID < records[j].ID
	})
	var out []*fengqiao.Chain
	err = s.db.View(func(tx *bolt.Tx) error {
		for _, r := range records[:min(limit, len(records))] {
			out = append(out, &fengqiao.Chain{ID: r.ID, EventIDs: s.members(tx, r.ID), Created: r.Created})
		}
		return nil
	})
	return out, err
}

// Links implements fengqiao.ChainService.
func (s *Store) Links(ctx context.Context, eventIDs []string) ([]fengqiao.Link, error) {
	in := map[string]bool{}
	for _, id := range eventIDs {
		in[id] = true
	}
	var out []fengqiao.Link
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLinks).Cursor()
		for _, id := range eventIDs {
			prefix := []byte(id + "\x00")
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				other := string(k[len(prefix):])
				if !in[other] || other < id {
					continue // each link once, and only inside the set
				}
				var l linkRecord
				if err := json.Unmarshal(v, &l); err != nil {
					return err
				}
				out = append(out, fengqiao.Link{From: id, To: other, Reasons: l.Reasons, Confidence: l.Confidence})
			}
		}
		return nil
	})
	return out, err
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Membership returns the chain of every event that is in one.
func (s *Store) Membership() (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMember).ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	return out, err
}
