package chains

import (
	"strconv"
	"strings"

	"fengqiao"
)

// window is what linking remembers of the events within the horizon: for each
// event its time, source, subject, sketch and chain, and for each evidence key
// and each sketch band the events under it, newest first. Finding the candidates
// of an event is a few map reads whatever the size of the store. Events are kept
// in arrival order in flat arrays without pointers, which the garbage collector
// need not scan, and leave from the front as the horizon moves on.
type window struct {
	eventBase uint32 // ordinal of events[0]
	events    []memo
	idBase    int      // offset of ids[0]
	ids       []byte   // event ids, memo.idOff
	subjBase  int      // offset of subjects[0]
	subjects  []uint32 // subject and named bigrams, memo.subjOff
	byID      map[uint64]uint32

	nodeBase uint32 // ordinal of nodes[0]
	nodes    []node
	heads    map[uint64]uint32 // evidence key or band bucket → its newest node's ordinal + 1
	swept    uint32            // nodeBase at the last sweep of heads and chains

	chains map[uint64]chainMemo // chains of the window's events
	newest int64                // the latest report seen, Unix seconds
}

// node is one event under one key; next is the node after it in the key's list,
// an event reported before it (its ordinal + 1, 0 for none).
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
	return &window{byID: map[uint64]uint32{}, heads: map[uint64]uint32{}, chains: map[uint64]chainMemo{}}
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
	if ord < w.eventBase || ord-w.eventBase >= uint32(len(w.events)) {
		return nil
	}
	return &w.events[ord-w.eventBase]
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

// lookup returns the remembered event of an id and its ordinal.
func (w *window) lookup(id string) (*memo, uint32) {
	ord, ok := w.byID[keyHash(id)]
	if !ok {
		return nil, 0
	}
	if m := w.memoAt(ord); m != nil && !m.dead && w.hasID(m, id) {
		return m, ord
	}
	return nil, 0
}

// add remembers an event under its evidence keys and sketch bands and returns its
// ordinal. A version of the event remembered before gives way to it and hands it
// its chain.
func (w *window) add(id string, m memo, subject, named []uint32, keys, bands []uint64) uint32 {
	if old, _ := w.lookup(id); old != nil {
		old.dead = true
		if m.chain == chainUnknown {
			m.chain = old.chain
		}
	}
	ord := w.eventBase + uint32(len(w.events))
	m.idOff, m.idLen = w.idBase+len(w.ids), uint16(len(id))
	w.ids = append(w.ids, id...)
	m.subjOff, m.subjLen, m.namedLen = w.subjBase+len(w.subjects), uint16(min(len(subject), 0xffff)), uint16(min(len(named), 0xffff))
	w.subjects = append(append(w.subjects, subject[:m.subjLen]...), named[:m.namedLen]...)
	w.events = append(w.events, m)
	w.byID[keyHash(id)] = ord
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
	for _, k := range bands {
		w.nodes = append(w.nodes, node{event: ord, next: w.heads[k]})
		w.heads[k] = w.nodeBase + uint32(len(w.nodes))
	}
	w.newest = max(w.newest, m.at)
	return ord
}

// walk calls fn for the live events under a key, newest report first, at most
// limit of them, until one was reported before oldest or fn returns false.
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

// evict forgets the events reported before cutoff at the front of the window
// (events are kept in arrival order: an old event that arrived late waits for
// those before it), then, now and then, the keys and chains that only they held.
func (w *window) evict(cutoff int64) {
	i := 0
	for i < len(w.events) && w.events[i].at < cutoff {
		m := &w.events[i]
		if ord := w.eventBase + uint32(i); w.byID[keyHash(w.id(m))] == ord {
			delete(w.byID, keyHash(w.id(m)))
		}
		i++
	}
	if i == 0 {
		return
	}
	w.eventBase += uint32(i)
	w.events = w.events[i:]
	j := 0
	for j < len(w.nodes) && w.nodes[j].event < w.eventBase {
		j++
	}
	w.nodeBase += uint32(j)
	w.nodes = w.nodes[j:]
	if len(w.events) == 0 {
		w.idBase, w.ids = w.idBase+len(w.ids), w.ids[:0]
		w.subjBase, w.subjects = w.subjBase+len(w.subjects), w.subjects[:0]
	} else {
		first := &w.events[0]
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
