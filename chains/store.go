// Package chains links events of the same matter into chains (类案串联: 事件跟踪)
// as they are ingested, by evidence the hub can explain: the same text reported
// again, the same reporter about a similar subject, the same key project,
// organization, school, hospital, estate, market or address, or one event being
// about another. The rules (windows, thresholds, weights) are data: a versioned
// YAML file, reloaded when it changes. The chains live in a Pebble store; what
// linking reads lives in memory for the span of the longest rule window, so that
// linking an event costs a few map reads whatever the size of the store.
package chains

import (
	"bytes"
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
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"

	"fengqiao"
)

// Store is the chain state: event signatures, links and chains in a Pebble LSM
// store, and the window of recent events in memory.
type Store struct {
	db   *pebble.DB
	tree *fengqiao.OrgTree

	mu  sync.Mutex // linking, and the window
	win *window

	rules     atomic.Pointer[Rules]
	rulesMu   sync.Mutex
	rulesFile string
	rulesMod  time.Time
	status    RulesStatus
}

var (
	_ fengqiao.Linker       = (*Store)(nil)
	_ fengqiao.ChainService = (*Store)(nil)
)

// Key spaces, each a one-letter prefix.
const (
	spacePostings = "p" // evidence key \0 reported (8 bytes) event id → "" (written before signatures held their keys; read when loading)
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

// candidatesPerKey bounds how many recent events of one evidence key a new event
// is compared with, and candidatesPerBand how many of one sketch band's bucket:
// the cost of linking does not grow with the store.
const (
	candidatesPerKey  = 64
	candidatesPerBand = 8
)

// cacheBytes is the block cache: the chain records and memberships of merged
// chains are read from the store. It lives outside the Go heap and in the
// process's RSS once filled; a miss reads the block from the kernel's page
// cache (the blocks are uncompressed), so a small cache costs little.
const cacheBytes = 64 << 20

// Open opens (or creates) the chain state in the directory dir, with the built-in
// link rules (LoadRules puts a rules file in force).
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
	s := &Store{db: db, tree: tree}
	rs, err := ParseRules(defaultRules)
	if err != nil {
		panic(err) // embedded in the binary: a failure is a build bug
	}
	if err := s.install(rs); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadWindow(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// loadWindow reads the events within the horizon of the newest one back into
// memory, oldest first. The caller holds s.mu (or has the store to itself).
func (s *Store) loadWindow() error {
	type loaded struct {
		id   string
		sig  signature
		keys []uint64
	}
	var all []loaded
	var newest int64
	prefix := key(spaceSigs, "")
	err := scan(s.db, prefix, false, func(k, v []byte) bool {
		if sig, ok := decodeSig(v); ok {
			all = append(all, loaded{id: string(k[len(prefix):]), sig: sig})
			newest = max(newest, sig.Reported)
		}
		return true
	})
	if err != nil {
		return err
	}
	cutoff := newest - s.rules.Load().horizon()
	all = slices.DeleteFunc(all, func(l loaded) bool { return l.sig.Reported < cutoff })
	// Signatures written before they held their keys find them in the postings.
	old := map[string]int{}
	for i, l := range all {
		if l.sig.Keys == nil {
			old[l.id] = i
		}
	}
	if len(old) > 0 {
		prefix = key(spacePostings, "")
		err = scan(s.db, prefix, false, func(k, _ []byte) bool {
			rest := k[len(prefix):]
			if i := bytes.IndexByte(rest, 0); i >= 0 && len(rest) >= i+9 {
				if j, ok := old[string(rest[i+9:])]; ok {
					all[j].keys = append(all[j].keys, keyHash(string(rest[:i])))
				}
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].sig.Reported < all[j].sig.Reported })
	w := newWindow()
	for _, l := range all {
		keys := l.keys
		if l.sig.Keys != nil {
			keys = l.sig.Keys
		}
		w.add(l.id, l.sig.memo(), l.sig.Subject, l.sig.Named, keys)
	}
	s.win = w
	return nil
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

// signature is what linking needs to know of an event, as stored.
type signature struct {
	Reported int64 // Unix seconds
	Source   fengqiao.Source
	Text     uint64 // hash of the normalized text
	Chars    uint32 // normalized length
	Sketch   Sketch
	Subject  []uint32 // subject bigrams, targets left out
	Named    []uint32 // bigrams of the targets its title names
	Keys     []uint64 // evidence keys posted (keyHash); nil in signatures of the first format
	Village  uint64   // villageNumber of its org code
	Targets  uint64   // targetBit of each target its title names
	Orgs     uint64   // targetBit of each organization it names
}

// sigFormat marks signatures that hold a sketch and keys; the first format
// began with the report time, whose first byte is 0.
const sigFormat = 1

// encodeSig writes a signature compactly.
func encodeSig(s signature) []byte {
	b := []byte{sigFormat}
	b = binary.BigEndian.AppendUint64(b, uint64(s.Reported))
	b = append(b, byte(len(s.Source)))
	b = append(b, s.Source...)
	b = binary.BigEndian.AppendUint64(b, s.Text)
	b = binary.BigEndian.AppendUint32(b, s.Chars)
	b = binary.BigEndian.AppendUint16(b, s.Sketch.Size)
	for _, v := range s.Sketch.Values {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Subject)))
	for _, h := range s.Subject {
		b = binary.BigEndian.AppendUint32(b, h)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Keys)))
	for _, k := range s.Keys {
		b = binary.BigEndian.AppendUint64(b, k)
	}
	b = binary.BigEndian.AppendUint64(b, s.Village)
	b = binary.BigEndian.AppendUint64(b, s.Targets)
	b = binary.BigEndian.AppendUint64(b, s.Orgs)
	b = binary.AppendUvarint(b, uint64(len(s.Named)))
	for _, h := range s.Named {
		b = binary.BigEndian.AppendUint32(b, h)
	}
	return b
}

func decodeSig(b []byte) (signature, bool) {
	if len(b) > 0 && b[0] == 0 {
		return decodeFirstSig(b)
	}
	if len(b) < 10 || b[0] != sigFormat {
		return signature{}, false
	}
	b = b[1:]
	s := signature{Reported: int64(binary.BigEndian.Uint64(b))}
	n := int(b[8])
	b = b[9:]
	if len(b) < n+8+4+2+2*SketchSize {
		return signature{}, false
	}
	s.Source, b = fengqiao.Source(b[:n]), b[n:]
	s.Text, s.Chars, s.Sketch.Size = binary.BigEndian.Uint64(b), binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint16(b[12:])
	b = b[14:]
	for i := range s.Sketch.Values {
		s.Sketch.Values[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	b = b[2*SketchSize:]
	count, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < 4*count {
		return signature{}, false
	}
	b = b[w:]
	s.Subject = make([]uint32, count)
	for i := range s.Subject {
		s.Subject[i], b = binary.BigEndian.Uint32(b), b[4:]
	}
	count, w = binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < 8*count {
		return signature{}, false
	}
	b = b[w:]
	s.Keys = make([]uint64, count)
	for i := range s.Keys {
		s.Keys[i], b = binary.BigEndian.Uint64(b), b[8:]
	}
	if len(b) < 24 {
		return signature{}, false
	}
	s.Village, s.Targets, s.Orgs = binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), binary.BigEndian.Uint64(b[16:])
	b = b[24:]
	count, w = binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < 4*count {
		return signature{}, false
	}
	b = b[w:]
	s.Named = make([]uint32, count)
	for i := range s.Named {
		s.Named[i], b = binary.BigEndian.Uint32(b), b[4:]
	}
	return s, true
}

// decodeFirstSig reads a signature of the first format: time, source, title
// bigrams. It has no sketch, so it finds no near-duplicates.
func decodeFirstSig(b []byte) (signature, bool) {
	if len(b) < 9 || len(b) < 9+int(b[8]) {
		return signature{}, false
	}
	n := int(b[8])
	s := signature{Reported: int64(binary.BigEndian.Uint64(b)), Source: fengqiao.Source(b[9 : 9+n])}
	for rest := b[9+n:]; len(rest) >= 4; rest = rest[4:] {
		s.Subject = append(s.Subject, binary.BigEndian.Uint32(rest))
	}
	return s, true
}

// memo is the signature as the window keeps it.
func (s *signature) memo() memo {
	return memo{at: s.Reported, text: s.Text, chars: s.Chars, source: sourceIndex(s.Source), sketch: s.Sketch,
		village: s.Village, targets: s.Targets, orgs: s.Orgs}
}

type chainRecord struct {
	ID      string    `json:"id"`
	Size    int       `json:"size"`
	Created time.Time `json:"created"`
}

// linkRecord is a link as stored: its evidence, from which its reasons and
// confidence follow; records of the first format were JSON with the reasons.
type linkRecord struct {
	Reasons    []string                `json:"reasons"`
	Confidence float64                 `json:"confidence"`
	Evidence   []fengqiao.LinkEvidence `json:"-"`
	What       string                  `json:"-"` // the kind of the targets sameTarget matched: 小区, 学校… or 对象
}

const linkFormat = 1

// encode writes a link compactly: per evidence its rule, score, weight and
// matched words.
func (l *linkRecord) encode() []byte {
	b := []byte{linkFormat}
	b = binary.AppendUvarint(b, uint64(len(l.Evidence)))
	for _, ev := range l.Evidence {
		b = append(b, byte(slices.Index(ruleNames, ev.Rule)))
		b = binary.BigEndian.AppendUint16(b, uint16(ev.Score*10000+0.5))
		b = binary.BigEndian.AppendUint16(b, uint16(ev.Confidence*10000+0.5))
		b = binary.AppendUvarint(b, uint64(len(ev.Matched)))
		for _, m := range ev.Matched {
			b = binary.AppendUvarint(b, uint64(len(m)))
			b = append(b, m...)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(l.What)))
	return append(b, l.What...)
}

// confidence adds up the link's evidence: 1 - Π(1 - c).
func (l *linkRecord) confidence() float64 {
	c := 0.0
	for _, ev := range l.Evidence {
		c = 1 - (1-c)*(1-ev.Confidence)
	}
	return c
}

// decodeLink reads a link record and gives it its reasons and confidence.
func decodeLink(b []byte) (linkRecord, error) {
	var l linkRecord
	if len(b) > 0 && b[0] == '{' {
		return l, json.Unmarshal(b, &l)
	}
	bad := fmt.Errorf("link record of an unknown format")
	if len(b) == 0 || b[0] != linkFormat {
		return l, bad
	}
	b = b[1:]
	str := func() (string, bool) {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return "", false
		}
		s := string(b[w : w+int(n)])
		b = b[w+int(n):]
		return s, true
	}
	n, w := binary.Uvarint(b)
	if w <= 0 {
		return l, bad
	}
	b = b[w:]
	for range n {
		if len(b) < 5 || int(b[0]) >= len(ruleNames) {
			return l, bad
		}
		ev := fengqiao.LinkEvidence{Rule: ruleNames[b[0]], Score: float64(binary.BigEndian.Uint16(b[1:])) / 10000,
			Confidence: float64(binary.BigEndian.Uint16(b[3:])) / 10000}
		b = b[5:]
		m, w := binary.Uvarint(b)
		if w <= 0 {
			return l, bad
		}
		b = b[w:]
		for range m {
			word, ok := str()
			if !ok {
				return l, bad
			}
			ev.Matched = append(ev.Matched, word)
		}
		l.Evidence = append(l.Evidence, ev)
	}
	what, ok := str()
	if !ok {
		return l, bad
	}
	l.What = what
	for i := range l.Evidence {
		l.Reasons = append(l.Reasons, reason(&l.Evidence[i], l.What))
	}
	l.Confidence = l.confidence()
	return l, nil
}

// Link implements fengqiao.Linker: each event is compared with the recent events
// that share evidence with it, linked to those the rules accept, and its chain
// merged with theirs. All of a batch is one transaction; the window in memory
// takes each event as it is linked, so later events of the batch find it, and is
// read again from the store if the transaction fails.
func (s *Store) Link(ctx context.Context, events []*fengqiao.Event) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rules := s.rules.Load()
	b := s.db.NewIndexedBatch() // reads see the batch's own writes
	defer b.Close()
	defer func() {
		if err != nil {
			err = errors.Join(err, s.loadWindow())
		}
	}()
	for _, e := range events {
		r := s.readReport(e)
		if err := s.link(b, rules, e, r); err != nil {
			return err
		}
		if err := s.postClusters(b, e, r.targets); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return err
	}
	s.win.evict(s.win.newest - rules.horizon())
	return nil
}

// link finds an event's candidates in the window, writes its links, joins its
// chain with theirs and remembers it.
func (s *Store) link(b *pebble.Batch, rules *Rules, e *fengqiao.Event, r report) error {
	sig := signature{Reported: e.ReportedAt.Unix(), Source: e.Source, Text: textHash(r.text.Norm),
		Chars: uint32(len([]rune(r.text.Norm))), Sketch: r.text.Sketch, Subject: r.text.Subject}
	sig.Village = villageNumber(e.OrgCode)
	for _, ev := range r.evidence {
		if !ev.lookupOnly {
			sig.Keys = append(sig.Keys, keyHash(ev.key))
		}
	}
	sig.Targets, sig.Orgs, sig.Named = r.titleTargets, r.orgs, r.named
	self := sig.memo()
	if old, _ := s.win.lookup(e.ID); old == nil && sig.Reported >= s.win.newest-rules.horizon() {
		// The window holds every event of the horizon: one it does not know and
		// reported within it is new to the store, in no chain yet.
		self.chain = noChain
	}
	found, err := s.match(b, rules, e, &self, sig.Subject, sig.Named, r.evidence)
	if err != nil {
		return err
	}
	found = s.bestPerChain(found)
	if err := b.Set(key(spaceSigs, e.ID), encodeSig(sig), nil); err != nil {
		return err
	}
	for other, l := range found {
		raw := l.encode()
		for _, pair := range [][2]string{{e.ID, other}, {other, e.ID}} {
			if err := b.Set(key(spaceLinks, pair[0], pair[1]), raw, nil); err != nil {
				return err
			}
		}
	}
	s.win.add(e.ID, self, sig.Subject, sig.Named, sig.Keys)
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
// others (whose IDs become aliases), or a new chain is made. What the window
// knows of the events' chains spares reading them from the store.
func (s *Store) join(b *pebble.Batch, events []string, at time.Time) error {
	var survivor *chainRecord
	others := map[string]*chainRecord{}
	var loose []string
	for _, id := range events {
		ch, err := s.chainOfEvent(b, id)
		if err != nil {
			return err
		}
		if ch == nil {
			loose = append(loose, id)
			continue
		}
		others[ch.ID] = ch
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
	number, cached := chainNumber(survivor.ID)
	add := func(id string) error {
		survivor.Size++
		if m, _ := s.win.lookup(id); m != nil {
			m.chain = chainUnknown
			if cached {
				m.chain = number
			}
		}
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
		if n, ok := chainNumber(ch.ID); ok {
			delete(s.win.chains, n)
		}
	}
	if cached {
		c := s.win.chains[number]
		s.win.chains[number] = chainMemo{size: uint32(survivor.Size), created: survivor.Created.UnixNano(), seen: max(c.seen, at.Unix())}
	}
	raw, _ := json.Marshal(survivor)
	return b.Set(key(spaceChains, survivor.ID), raw, nil)
}

// chainOfEvent returns the chain an event is in, nil if none: from the window
// when it knows, else from the store (and the window learns it).
func (s *Store) chainOfEvent(r pebble.Reader, id string) (*chainRecord, error) {
	m, _ := s.win.lookup(id)
	if m != nil && m.chain == noChain {
		return nil, nil
	}
	if m != nil && m.chain != chainUnknown {
		if c, ok := s.win.chains[m.chain]; ok {
			return &chainRecord{ID: chainID(m.chain), Size: int(c.size), Created: time.Unix(0, c.created).UTC()}, nil
		}
	}
	cid, err := get(r, key(spaceMember, id))
	if err != nil {
		return nil, err
	}
	if cid == nil {
		if m != nil {
			m.chain = noChain
		}
		return nil, nil
	}
	raw, err := get(r, key(spaceChains, string(cid)))
	if err != nil {
		return nil, err
	}
	var ch chainRecord
	if err := json.Unmarshal(raw, &ch); err != nil {
		return nil, fmt.Errorf("chain record %s of %s: %w", cid, id, err)
	}
	if n, ok := chainNumber(ch.ID); ok {
		if m != nil {
			m.chain = n
		}
		c := s.win.chains[n]
		s.win.chains[n] = chainMemo{size: uint32(ch.Size), created: ch.Created.UnixNano(), seen: max(c.seen, s.win.newest)}
	}
	return &ch, nil
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
			if l, decodeErr = decodeLink(v); decodeErr != nil {
				return false
			}
			out = append(out, fengqiao.Link{From: id, To: other, Reasons: l.Reasons, Confidence: l.Confidence, Evidence: l.Evidence})
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
