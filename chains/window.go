package chains

import (
	"strconv"
	"strings"

	"fengqiao"
)

// window is what linking remembers of the events within the horizon: for each
// event its time, source, subject, sketch and chain, and for each evidence key
// and each sketch band's bucket the events under it, newest first. Finding the
// candidates of an event is a few table reads whatever the size of the store.
// Events are kept in arrival order in flat arrays without pointers, which the
// garbage collector need not scan, and leave from the front as the horizon
// moves on.
//
// It is sized for a million events and more: per event, a memo (280 bytes, the
// sketch 130 of them and its earlier arrivals 64) in chunks that are never
// copied as the window grows, its id and subject, a node per evidence key, and
// for the sixteen sketch bands, where nearly every bucket holds one event,
// about eight bytes each of table (buckets) instead of a map entry and a node
// (~35 bytes) each.
type window struct {
	eventBase uint32 // ordinal of the first event in the window
	events    memos
	idBase    int      // offset of ids[0]
	ids       []byte   // event ids, memo.idOff
	subjBase  int      // offset of subjects[0]
	subjects  []uint32 // subject and named bigrams, memo.subjOff
	byID      ordSet   // each id's latest event, keyed by the id

	nodeBase uint32 // ordinal of nodes[0]
	nodes    []node
	heads    map[uint64]uint32 // evidence key → its newest node's ordinal + 1
	swept    uint32            // nodeBase at the last sweep of heads and chains

	// buckets[b] holds the newest arrival of each bucket of band b, keyed by the
	// band's values in the arrival's own sketch (memo.earlier links the rest).
	buckets [SketchBands]ordSet

	chains map[uint64]chainMemo // chains of the window's events
	newest int64                // the latest report seen, Unix seconds
}

// node is one event under one evidence key; next is the node after it in the
// key's list, an event reported before it (its ordinal + 1, 0 for none).
type node struct{ event, next uint32 }

// memo is what linking knows of one event.
type memo struct {
	at       int64  // reported, Unix seconds
	text     uint64 // hash of the normalized text
	chain    uint64 // its chain's number (chainNumber), or chainUnknown, or noChain
	idOff    int
	subjOff  int
	idLen    uint16
	subjLen  uint16
	namedLen uint16
	chars    uint32 // length of the normalized text, in characters
	village  uint64 // the village (or grid's village) the event lies in, by code; 0 if above
	targets  uint64 // a bit for each target its title names (targetBit)
	orgs     uint64 // a bit for each organization it names, as party or in its text (targetBit)
	source   uint8  // index in fengqiao.Sources + 1
	dead     bool   // a newer version of the event was remembered after it
	sketch   Sketch
	earlier  [SketchBands]uint32 // for each band, the arrival before it in its bucket (ordinal + 1, 0 for none)
}

// chunkLen is how many events a chunk of memos holds.
const chunkLen = 4096

// memos are the window's events by ordinal, in chunks of chunkLen: the window
// grows a chunk at a time, never copying (nor holding twice, while it copies)
// what it holds, and its front leaves a chunk at a time.
type memos struct {
	first  uint32   // ordinal of chunks[0][0]
	end    uint32   // ordinal after the last
	chunks [][]memo // each of capacity chunkLen
}

func (s *memos) at(ord uint32) *memo {
	i := ord - s.first
	return &s.chunks[i/chunkLen][i%chunkLen]
}

func (s *memos) push(m memo) {
	if len(s.chunks) == 0 {
		s.first = s.end
	}
	if n := len(s.chunks); n == 0 || len(s.chunks[n-1]) == chunkLen {
		s.chunks = append(s.chunks, make([]memo, 0, chunkLen))
	}
	last := &s.chunks[len(s.chunks)-1]
	*last = append(*last, m)
	s.end++
}

// dropBefore lets go of the chunks that hold only events before ord.
func (s *memos) dropBefore(ord uint32) {
	for len(s.chunks) > 0 && len(s.chunks[0]) == chunkLen && s.first+chunkLen <= ord {
		s.chunks[0] = nil
		s.chunks = s.chunks[1:]
		s.first += chunkLen
	}
}

const (
	chainUnknown uint64 = 0 // not read from the store yet
	noChain      uint64 = ^uint64(0)
)

// chainMemo is what linking knows of a chain.
type chainMemo struct {
	size    uint32
	created int64 // Unix nanoseconds
	seen    int64 // its latest member's report, for forgetting it
}

func newWindow() *window {
	return &window{heads: map[uint64]uint32{}, chains: map[uint64]chainMemo{}}
}

// sourceIndex numbers a source for a memo.
func sourceIndex(s fengqiao.Source) uint8 {
	for i, k := range fengqiao.Sources {
		if k == s {
			return uint8(i + 1)
		}
	}
	return 0
}

// memoAt returns the event of an ordinal, nil if it has left the window.
func (w *window) memoAt(ord uint32) *memo {
	if ord < w.eventBase || ord >= w.events.end {
		return nil
	}
	return w.events.at(ord)
}

func (w *window) id(m *memo) string {
	off := m.idOff - w.idBase
	return string(w.ids[off : off+int(m.idLen)])
}

func (w *window) hasID(m *memo, id string) bool {
	off := m.idOff - w.idBase
	return len(id) == int(m.idLen) && string(w.ids[off:off+int(m.idLen)]) == id
}

// subject returns an event's subject bigrams and the bigrams of the targets its
// title names.
func (w *window) subject(m *memo) (subject, named []uint32) {
	off := m.subjOff - w.subjBase
	mid := off + int(m.subjLen)
	return w.subjects[off:mid], w.subjects[mid : mid+int(m.namedLen)]
}

// idHash is where an id lies in byID.
func idHash(id string) uint64 { return mix64(keyHash(id)) }

// bandValue is band b of a sketch: its SketchRows values, one after another.
func bandValue(s *Sketch, b int) uint64 {
	var v uint64
	for _, x := range s.Values[b*SketchRows : (b+1)*SketchRows] {
		v = v<<16 | uint64(x)
	}
	return v
}

// bandHash is where a bucket of band b lies in buckets[b].
func bandHash(v uint64, b int) uint64 { return mix64(v ^ uint64(b+1)*0x9e3779b97f4a7c15) }

// lookup returns the remembered event of an id and its ordinal.
func (w *window) lookup(id string) (*memo, uint32) {
	slot := w.byID.find(idHash(id), w.eventBase, func(ord uint32) bool { return w.hasID(w.events.at(ord), id) })
	if slot < 0 {
		return nil, 0
	}
	ord := w.byID.slots[slot] - 1
	if m := w.events.at(ord); !m.dead {
		return m, ord
	}
	return nil, 0
}

// bucket returns the newest arrival in the bucket of band b of a sketch
// (ordinal + 1, 0 for none).
func (w *window) bucket(s *Sketch, b int) uint32 {
	v := bandValue(s, b)
	slot := w.buckets[b].find(bandHash(v, b), w.eventBase, func(ord uint32) bool { return bandValue(&w.events.at(ord).sketch, b) == v })
	if slot < 0 {
		return 0
	}
	return w.buckets[b].slots[slot]
}

// add remembers an event under its evidence keys and, unless its text is
// empty, in the buckets of its sketch's bands, and returns its ordinal. A
// version of the event remembered before gives way to it and hands it its
// chain.
func (w *window) add(id string, m memo, subject, named []uint32, keys []uint64) uint32 {
	if old, _ := w.lookup(id); old != nil {
		old.dead = true
		if m.chain == chainUnknown {
			m.chain = old.chain
		}
	}
	ord := w.events.end
	m.idOff, m.idLen = w.idBase+len(w.ids), uint16(len(id))
	w.ids = append(w.ids, id...)
	m.subjOff, m.subjLen, m.namedLen = w.subjBase+len(w.subjects), uint16(min(len(subject), 0xffff)), uint16(min(len(named), 0xffff))
	w.subjects = append(append(w.subjects, subject[:m.subjLen]...), named[:m.namedLen]...)
	w.events.push(m)
	w.byID.put(idHash(id), ord, w.eventBase,
		func(o uint32) bool { return w.hasID(w.events.at(o), id) },
		func(o uint32) uint64 { return idHash(w.id(w.events.at(o))) })
	for _, k := range keys {
		// A key's list is kept newest report first: an event reported before the
		// head goes further down, at most candidatesPerKey nodes (one that arrives
		// among many newer stays near the top).
		var prev uint32 // the node to insert after (ordinal + 1), 0 for the head
		next := w.heads[k]
		for steps := 0; next != 0 && next-1 >= w.nodeBase && steps < candidatesPerKey; steps++ {
			nd := w.nodes[next-1-w.nodeBase]
			if em := w.memoAt(nd.event); em == nil || em.at <= m.at {
				break
			}
			prev, next = next, nd.next
		}
		n := w.nodeBase + uint32(len(w.nodes)) + 1
		w.nodes = append(w.nodes, node{event: ord, next: next})
		if prev == 0 {
			w.heads[k] = n
		} else {
			w.nodes[prev-1-w.nodeBase].next = n
		}
	}
	// Band buckets are only read to the candidatesPerBand newest arrivals,
	// within a window longer than most: they keep arrival order.
	if stored := w.events.at(ord); m.sketch.Size > 0 {
		for b := range SketchBands {
			v := bandValue(&m.sketch, b)
			stored.earlier[b] = w.buckets[b].put(bandHash(v, b), ord, w.eventBase,
				func(o uint32) bool { return bandValue(&w.events.at(o).sketch, b) == v },
				func(o uint32) uint64 { return bandHash(bandValue(&w.events.at(o).sketch, b), b) })
		}
	}
	w.newest = max(w.newest, m.at)
	return ord
}

// walk calls fn for the live events under an evidence key, newest report
// first, at most limit of them, until one was reported before oldest or fn
// returns false.
func (w *window) walk(key uint64, limit int, oldest int64, fn func(ord uint32, m *memo) bool) {
	for n := w.heads[key]; n != 0 && limit > 0; {
		ord := n - 1
		if ord < w.nodeBase {
			return // the rest has left the window
		}
		nd := w.nodes[ord-w.nodeBase]
		n = nd.next
		m := w.memoAt(nd.event)
		if m == nil || m.dead {
			continue
		}
		if m.at < oldest {
			return // the rest is older still
		}
		limit--
		if !fn(nd.event, m) {
			return
		}
	}
}

// walkBand calls fn for the live events in the bucket of band b of a sketch,
// newest arrival first, at most limit of them, until fn returns false.
func (w *window) walkBand(s *Sketch, b, limit int, fn func(ord uint32, m *memo) bool) {
	for n := w.bucket(s, b); n != 0 && limit > 0; {
		ord := n - 1
		m := w.memoAt(ord)
		if m == nil {
			return // the rest has left the window
		}
		n = m.earlier[b]
		if m.dead {
			continue
		}
		limit--
		if !fn(ord, m) {
			return
		}
	}
}

// evict forgets the events reported before cutoff at the front of the window
// (events are kept in arrival order: an old event that arrived late waits for
// those before it), then, now and then, the keys and chains that only they held.
// Their entries in byID and the buckets become tombstones, dropped as those
// tables grow.
func (w *window) evict(cutoff int64) {
	i := w.eventBase
	for i < w.events.end && w.events.at(i).at < cutoff {
		i++
	}
	if i == w.eventBase {
		return
	}
	w.eventBase = i
	w.events.dropBefore(i)
	j := 0
	for j < len(w.nodes) && w.nodes[j].event < w.eventBase {
		j++
	}
	w.nodeBase += uint32(j)
	w.nodes = w.nodes[j:]
	if w.eventBase == w.events.end {
		w.idBase, w.ids = w.idBase+len(w.ids), w.ids[:0]
		w.subjBase, w.subjects = w.subjBase+len(w.subjects), w.subjects[:0]
	} else {
		first := w.events.at(w.eventBase)
		w.ids, w.idBase = w.ids[first.idOff-w.idBase:], first.idOff
		w.subjects, w.subjBase = w.subjects[first.subjOff-w.subjBase:], first.subjOff
	}
	// Sweep the heads that point before the window once the window has moved on
	// by as many nodes as there are heads: the cost is spread over those nodes.
	if w.nodeBase-w.swept > uint32(len(w.heads)) {
		for k, n := range w.heads {
			if n-1 < w.nodeBase {
				delete(w.heads, k)
			}
		}
		for k, c := range w.chains {
			if c.seen < cutoff {
				delete(w.chains, k)
			}
		}
		w.swept = w.nodeBase
	}
}

// ordSet is a hash table of the window's events: a slot holds an event's
// ordinal + 1 (0 when empty) and no key — the key is read back from the event
// (its id, its sketch's band), so a slot costs four bytes where a Go map entry
// from a 64-bit key costs twenty and more. Linear probing; a slot whose event
// has left the window (ordinal below base) is a tombstone, taken again by an
// insert and dropped when the table is rebuilt.
type ordSet struct {
	slots []uint32
	used  int // slots not empty, tombstones included
}

// find returns the slot of the live event that matches a key of the given
// hash, -1 if there is none.
func (t *ordSet) find(hash uint64, base uint32, match func(ord uint32) bool) int {
	if len(t.slots) == 0 {
		return -1
	}
	mask := uint64(len(t.slots) - 1)
	for i := hash & mask; ; i = (i + 1) & mask {
		switch n := t.slots[i]; {
		case n == 0:
			return -1
		case n-1 >= base && match(n-1):
			return int(i)
		}
	}
}

// put makes ord the event of its key (match tells the key's events, hashOf
// the hash of any live event's key when the table is rebuilt) and returns the
// event it replaces (ordinal + 1, 0 for none).
func (t *ordSet) put(hash uint64, ord, base uint32, match func(ord uint32) bool, hashOf func(ord uint32) uint64) uint32 {
	if (t.used+1)*4 > len(t.slots)*3 {
		t.rebuild(base, hashOf)
	}
	mask := uint64(len(t.slots) - 1)
	free := -1
	for i := hash & mask; ; i = (i + 1) & mask {
		n := t.slots[i]
		if n == 0 {
			if free < 0 {
				free = int(i)
				t.used++
			}
			t.slots[free] = ord + 1
			return 0
		}
		if n-1 < base {
			if free < 0 {
				free = int(i) // a tombstone, taken unless the key lies further on
			}
		} else if match(n - 1) {
			t.slots[i] = ord + 1
			return n
		}
	}
}

// rebuild puts the live events into a table twice their number (at least 64
// slots), dropping the tombstones.
func (t *ordSet) rebuild(base uint32, hashOf func(ord uint32) uint64) {
	live := 0
	for _, n := range t.slots {
		if n != 0 && n-1 >= base {
			live++
		}
	}
	size := 64
	for size < 2*(live+1) {
		size *= 2
	}
	old := t.slots
	t.slots, t.used = make([]uint32, size), live
	mask := uint64(size - 1)
	for _, n := range old {
		if n == 0 || n-1 < base {
			continue
		}
		i := hashOf(n-1) & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = n
	}
}

// chainNumber turns a chain id (CH and a number in base 36) into its number.
func chainNumber(id string) (uint64, bool) {
	if !strings.HasPrefix(id, "CH") {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.ToLower(id[2:]), 36, 64)
	if err != nil || n == chainUnknown || n == noChain {
		return 0, false
	}
	return n, true
}

// chainID is the id of a chain number.
func chainID(n uint64) string { return "CH" + strings.ToUpper(strconv.FormatUint(n, 36)) }

// targetBit is the bit of a target (kind and name) in memo.targets.
func targetBit(target string) uint64 { return 1 << (keyHash(target) % 64) }

// villageNumber is the code of the village an org code lies in, 0 if it lies in
// none.
func villageNumber(orgCode string) uint64 {
	if len(orgCode) < 12 {
		return 0
	}
	n, err := strconv.ParseUint(orgCode[:12], 10, 64)
	if err != nil {
		return 0
	}
	return n
}
