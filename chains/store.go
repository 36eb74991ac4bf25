// Package chains links events of the same matter into chains (类案串联) as they are
// ingested, by evidence the hub can explain: the same key project, organization,
// building or person (with a similar complaint), or one event being about another.
// It keeps its state in a Pebble store; linking an event costs a bounded number of
// key lookups whatever the size of the index.
package chains

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"

	"fengqiao"
)

// Store is the chain state: evidence postings, event signatures, links, chains,
// kept in a Pebble LSM store. The postings and signatures that linking reads are
// also held in memory, for the span of the longest rule window, so that finding
// the candidates of an event is a few map lookups whatever the size of the store.
type Store struct {
	db   *pebble.DB
	tree *fengqiao.OrgTree

	mu       sync.Mutex
	postings map[string][]posting // evidence key → newest last, at most candidatesPerKey
	sigs     map[string]signature // event id → signature, within the horizon
}

// posting is one event under an evidence key.
type posting struct {
	at int64 // reported, Unix seconds
	id string
}

// horizon is the longest rule window: older postings can link nothing new.
var horizon = func() time.Duration {
	var h time.Duration
	for _, r := range rules {
		h = max(h, r.window)
	}
	return h
}()

var (
	_ fengqiao.Linker       = (*Store)(nil)
	_ fengqiao.ChainService = (*Store)(nil)
)

// Key spaces, each a one-letter prefix.
const (
	spacePostings = "p" // evidence key \0 reported (8 bytes) event id → ""
	spaceSigs     = "s" // event id → signature
	spaceLinks    = "l" // event id \0 other id → link
	spaceMember   = "m" // event id → chain id
	spaceChains   = "c" // chain id → chain record
	spaceMembers  = "M" // chain id \0 event id → ""
	spaceAlias    = "a" // absorbed chain id → chain id
)

func key(space string, parts ...string) []byte {
	return []byte(space + "\x00" + strings.Join(parts, "\x00"))
}

// candidatesPerKey bounds how many recent events of one key a new event is
// compared with: the cost of linking does not grow with the index.
const candidatesPerKey = 64

// cacheBytes is the block cache: linking reads recent postings of random keys,
// which stay in memory at county scale (5 M events).
const cacheBytes = 512 << 20

// Open opens (or creates) the chain state in the directory dir.
func Open(dir string, tree *fengqiao.OrgTree) (*Store, error) {
	cache := pebble.NewCache(cacheBytes)
	defer cache.Unref()
	opts := &pebble.Options{Logger: quietLogger{}, Cache: cache, MemTableSize: 64 << 20}
	opts.Levels = make([]pebble.LevelOptions, 7)
	for i := range opts.Levels {
		// Uncompressed blocks: a cache miss costs a read, not a decompression too.
		// Bloom filters let point reads (chain of an event, chain records) skip the
		// files that do not hold the key.
		opts.Levels[i] = pebble.LevelOptions{Compression: pebble.NoCompression, BlockSize: 16 << 10, FilterPolicy: bloom.FilterPolicy(10)}
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open chain state %s: %w", dir, err)
	}
	s := &Store{db: db, tree: tree, postings: map[string][]posting{}, sigs: map[string]signature{}}
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// load reads the postings and signatures within the horizon of the newest event
// back into memory.
func (s *Store) load() error {
	var newest int64
	prefix := key(spaceSigs, "")
	err := scan(s.db, prefix, false, func(k, v []byte) bool {
		sig, ok := decodeSig(v)
		if ok {
			s.sigs[string(k[len(prefix):])] = sig
			newest = max(newest, sig.Reported)
		}
		return true
	})
	if err != nil {
		return err
	}
	cutoff := newest - int64(horizon.Seconds())
	for id, sig := range s.sigs {
		if sig.Reported < cutoff {
			delete(s.sigs, id)
		}
	}
	prefix = key(spacePostings, "")
	return scan(s.db, prefix, false, func(k, _ []byte) bool {
		rest := k[len(prefix):]
		i := bytes.IndexByte(rest, 0)
		if i < 0 || len(rest) < i+9 {
			return true
		}
		at := int64(binary.BigEndian.Uint64(rest[i+1 : i+9]))
		if at >= cutoff {
			s.post(string(rest[:i]), posting{at: at, id: string(rest[i+9:])})
		}
		return true
	})
}

// post adds a posting in memory, keeping each key's newest candidatesPerKey.
func (s *Store) post(evKey string, p posting) {
	list := s.postings[evKey]
	for _, q := range list {
		if q.id == p.id {
			return
		}
	}
	list = append(list, p)
	slices.SortFunc(list, func(a, b posting) int { return cmp.Compare(a.at, b.at) })
	if len(list) > candidatesPerKey {
		list = list[len(list)-candidatesPerKey:]
	}
	s.postings[evKey] = list
}

// Close closes the state.
func (s *Store) Close() error { return s.db.Close() }

// quietLogger keeps Pebble's housekeeping out of the hub's log.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "chains: "+format+"\n", args...)
}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("chains: "+format, args...))
}

// get reads a value, nil if there is none.
func get(r pebble.Reader, k []byte) ([]byte, error) {
	v, closer, err := r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

// scan calls fn for the keys under prefix, newest first when reverse, until fn
// returns false.
func scan(r pebble.Reader, prefix []byte, reverse bool, fn func(k, v []byte) bool) error {
	upper := append(bytes.Clone(prefix), 0xff, 0xff)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	step, ok := it.Next, false
	if reverse {
		step, ok = it.Prev, it.Last()
	} else {
		ok = it.First()
	}
	for ; ok; ok = step() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	return it.Error()
}

// signature is what linking needs to know of an event already seen.
type signature struct {
	Reported int64 // Unix seconds
	Source   fengqiao.Source
	Shingles []uint32
}

// encodeSig writes a signature compactly: time, source, then the shingles.
func encodeSig(s signature) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(s.Reported))
	b = append(b, byte(len(s.Source)))
	b = append(b, s.Source...)
	for _, h := range s.Shingles {
		b = binary.BigEndian.AppendUint32(b, h)
	}
	return b
}

func decodeSig(b []byte) (signature, bool) {
	if len(b) < 9 || len(b) < 9+int(b[8]) {
		return signature{}, false
	}
	n := int(b[8])
	s := signature{Reported: int64(binary.BigEndian.Uint64(b)), Source: fengqiao.Source(b[9 : 9+n])}
	for rest := b[9+n:]; len(rest) >= 4; rest = rest[4:] {
		s.Shingles = append(s.Shingles, binary.BigEndian.Uint32(rest))
	}
	return s, true
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
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.db.NewIndexedBatch() // reads see the batch's own writes
	defer b.Close()
	posted := map[string][]posting{} // this batch's postings, by evidence key
	sigs := map[string]signature{}
	for _, e := range events {
		sig := signature{Reported: e.ReportedAt.Unix(), Source: e.Source, Shingles: s.titleShingles(e)}
		sigs[e.ID] = sig
		evidence := s.evidenceOf(e)
		if err := s.link(b, e, sig, evidence, sigs, posted); err != nil {
			return err
		}
		for _, ev := range evidence {
			if !ev.lookupOnly {
				posted[ev.key] = append(posted[ev.key], posting{sig.Reported, e.ID})
			}
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return err
	}
	// Memory follows the store only once the batch is durable.
	for id, sig := range sigs {
		s.sigs[id] = sig
	}
	for k, ps := range posted {
		for _, p := range ps {
			s.post(k, p)
		}
	}
	return nil
}

// signatureOf returns what linking knows of an event: from this batch, memory,
// or, for an event beyond the horizon, the store.
func (s *Store) signatureOf(r pebble.Reader, id string, batch map[string]signature) (signature, bool) {
	if sig, ok := batch[id]; ok {
		return sig, true
	}
	if sig, ok := s.sigs[id]; ok {
		return sig, true
	}
	raw, err := get(r, key(spaceSigs, id))
	if err != nil || raw == nil {
		return signature{}, false
	}
	return decodeSig(raw)
}

// link finds an event's candidates among the batch's postings and the remembered
// ones, writes its links and posts it.
func (s *Store) link(b *pebble.Batch, e *fengqiao.Event, sig signature, evidence []evidence, batchSigs map[string]signature, batchPosted map[string][]posting) error {
	if err := b.Set(key(spaceSigs, e.ID), encodeSig(sig), nil); err != nil {
		return err
	}
	found := map[string]*linkRecord{}
	for _, ev := range evidence {
		rule := rules[ev.kind]
		// Candidates: this batch's postings of the key, then the remembered ones, newest first.
		candidates := append(slices.Clone(s.postings[ev.key]), batchPosted[ev.key]...)
		if ev.kind == byRefersTo && ev.key == "ref:"+e.RefersTo {
			// What a survey is about is a candidate itself, if it has come.
			if ts, ok := s.signatureOf(b, e.RefersTo, batchSigs); ok {
				candidates = append(candidates, posting{ts.Reported, e.RefersTo})
			}
		}
		for i := len(candidates) - 1; i >= 0 && i >= len(candidates)-2*candidatesPerKey; i-- {
			c := candidates[i]
			if c.id == e.ID || abs(c.at-sig.Reported) > int64(rule.window.Seconds()) {
				continue
			}
			if rule.accepts != nil {
				os, ok := s.signatureOf(b, c.id, batchSigs)
				if !ok || !rule.accepts(&sig, &os) {
					continue
				}
			}
			other := c.id
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
		if !ev.lookupOnly {
			posting := append(key(spacePostings, ev.key, ""), binary.BigEndian.AppendUint64(nil, uint64(sig.Reported))...)
			if err := b.Set(append(posting, e.ID...), nil, nil); err != nil {
				return err
			}
		}
	}
	for other, l := range found {
		raw, _ := json.Marshal(l)
		for _, pair := range [][2]string{{e.ID, other}, {other, e.ID}} {
			if err := b.Set(key(spaceLinks, pair[0], pair[1]), raw, nil); err != nil {
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
	return s.join(b, members, e.ReportedAt)
}

// join puts events into one chain: the largest of their chains absorbs the
// others (whose IDs become aliases), or a new chain is made.
func (s *Store) join(b *pebble.Batch, events []string, at time.Time) error {
	var survivor *chainRecord
	others := map[string]*chainRecord{}
	var loose []string
	for _, id := range events {
		cid, err := get(b, key(spaceMember, id))
		if err != nil {
			return err
		}
		if cid == nil {
			loose = append(loose, id)
			continue
		}
		raw, err := get(b, key(spaceChains, string(cid)))
		if err != nil {
			return err
		}
		var ch chainRecord
		if err := json.Unmarshal(raw, &ch); err != nil {
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
		if err := b.Set(key(spaceMember, id), []byte(survivor.ID), nil); err != nil {
			return err
		}
		return b.Set(key(spaceMembers, survivor.ID, id), nil, nil)
	}
	for _, id := range loose {
		if err := add(id); err != nil {
			return err
		}
	}
	for _, ch := range others {
		absorbed, err := s.members(b, ch.ID)
		if err != nil {
			return err
		}
		for _, id := range absorbed {
			if err := add(id); err != nil {
				return err
			}
			if err := b.Delete(key(spaceMembers, ch.ID, id), nil); err != nil {
				return err
			}
		}
		if err := b.Delete(key(spaceChains, ch.ID), nil); err != nil {
			return err
		}
		if err := b.Set(key(spaceAlias, ch.ID), []byte(survivor.ID), nil); err != nil {
			return err
		}
	}
	raw, _ := json.Marshal(survivor)
	return b.Set(key(spaceChains, survivor.ID), raw, nil)
}

func (s *Store) members(r pebble.Reader, chainID string) ([]string, error) {
	var out []string
	prefix := key(spaceMembers, chainID, "")
	err := scan(r, prefix, false, func(k, _ []byte) bool {
		out = append(out, string(k[len(prefix):]))
		return true
	})
	return out, err
}

// resolve follows aliases to the chain that absorbed id.
func resolve(r pebble.Reader, id string) (string, error) {
	for range 64 {
		next, err := get(r, key(spaceAlias, id))
		if err != nil || next == nil {
			return id, err
		}
		id = string(next)
	}
	return id, nil
}

func (s *Store) chain(r pebble.Reader, id string) (*fengqiao.Chain, error) {
	id, err := resolve(r, id)
	if err != nil {
		return nil, err
	}
	raw, err := get(r, key(spaceChains, id))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, fengqiao.Errorf(fengqiao.ENOTFOUND, "案件串联不存在：%s", id)
	}
	var ch chainRecord
	if err := json.Unmarshal(raw, &ch); err != nil {
		return nil, err
	}
	members, err := s.members(r, ch.ID)
	return &fengqiao.Chain{ID: ch.ID, EventIDs: members, Created: ch.Created}, err
}

// ChainOf implements fengqiao.ChainService.
func (s *Store) ChainOf(ctx context.Context, eventID string) (*fengqiao.Chain, error) {
	cid, err := get(s.db, key(spaceMember, eventID))
	if err != nil || cid == nil {
		return nil, err
	}
	return s.chain(s.db, string(cid))
}

// Chain implements fengqiao.ChainService.
func (s *Store) Chain(ctx context.Context, id string) (*fengqiao.Chain, error) {
	return s.chain(s.db, id)
}

// Chains implements fengqiao.ChainService.
func (s *Store) Chains(ctx context.Context, f fengqiao.ChainFilter, limit int) ([]*fengqiao.Chain, error) {
	minSize := max(f.MinSize, 2)
	var records []chainRecord
	var decodeErr error
	err := scan(s.db, key(spaceChains, ""), false, func(_, v []byte) bool {
		var ch chainRecord
		if decodeErr = json.Unmarshal(v, &ch); decodeErr != nil {
			return false
		}
		if ch.Size >= minSize {
			records = append(records, ch)
		}
		return true
	})
	if err = errors.Join(err, decodeErr); err != nil {
		return nil, err
	}
	sort.Slice(records, func(i, j int) bool {
		if records[i].Size != records[j].Size {
			return records[i].Size > records[j].Size
		}
		return records[i].ID < records[j].ID
	})
	var out []*fengqiao.Chain
	for _, r := range records[:min(limit, len(records))] {
		members, err := s.members(s.db, r.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, &fengqiao.Chain{ID: r.ID, EventIDs: members, Created: r.Created})
	}
	return out, nil
}

// Links implements fengqiao.ChainService.
func (s *Store) Links(ctx context.Context, eventIDs []string) ([]fengqiao.Link, error) {
	in := map[string]bool{}
	for _, id := range eventIDs {
		in[id] = true
	}
	var out []fengqiao.Link
	for _, id := range eventIDs {
		prefix := key(spaceLinks, id, "")
		var decodeErr error
		err := scan(s.db, prefix, false, func(k, v []byte) bool {
			other := string(k[len(prefix):])
			if !in[other] || other < id {
				return true // each link once, and only inside the set
			}
			var l linkRecord
			if decodeErr = json.Unmarshal(v, &l); decodeErr != nil {
				return false
			}
			out = append(out, fengqiao.Link{From: id, To: other, Reasons: l.Reasons, Confidence: l.Confidence})
			return true
		})
		if err = errors.Join(err, decodeErr); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Membership returns the chain of every event that is in one.
func (s *Store) Membership() (map[string]string, error) {
	out := map[string]string{}
	prefix := key(spaceMember, "")
	err := scan(s.db, prefix, false, func(k, v []byte) bool {
		out[string(k[len(prefix):])] = string(v)
		return true
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
