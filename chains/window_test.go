package chains

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// mapWindow is the window as it was before its ordinal tables: a Go map from
// each id and each evidence key or band bucket to its newest node, every band
// bucket a list of nodes. It is the reference the window must answer like.
type mapWindow struct {
	eventBase uint32
	events    []refMemo
	byID      map[uint64]uint32
	nodeBase  uint32
	nodes     []node
	heads     map[uint64]uint32
}

type refMemo struct {
	id   string
	at   int64
	dead bool
}

// refBandKeys is the LSH bucket of each band of a sketch as the map window
// keyed it (band keys with the top bit set, apart from evidence keys).
func refBandKeys(s *Sketch) []uint64 {
	if s.Size == 0 {
		return nil
	}
	var out []uint64
	for b := range SketchBands {
		var v uint64
		for r := range SketchRows {
			v = v<<16 | uint64(s.Values[b*SketchRows+r])
		}
		out = append(out, mix64(v^uint64(b+1)*0x9e3779b97f4a7c15)|1<<63)
	}
	return out
}

func (w *mapWindow) memoAt(ord uint32) *refMemo {
	if ord < w.eventBase || ord-w.eventBase >= uint32(len(w.events)) {
		return nil
	}
	return &w.events[ord-w.eventBase]
}

func (w *mapWindow) lookup(id string) (*refMemo, uint32) {
	ord, ok := w.byID[keyHash(id)]
	if !ok {
		return nil, 0
	}
	if m := w.memoAt(ord); m != nil && !m.dead && m.id == id {
		return m, ord
	}
	return nil, 0
}

func (w *mapWindow) add(id string, at int64, keys, bands []uint64) uint32 {
	if old, _ := w.lookup(id); old != nil {
		old.dead = true
	}
	ord := w.eventBase + uint32(len(w.events))
	w.events = append(w.events, refMemo{id: id, at: at})
	w.byID[keyHash(id)] = ord
	for _, k := range keys {
		var prev uint32
		next := w.heads[k]
		for steps := 0; next != 0 && next-1 >= w.nodeBase && steps < candidatesPerKey; steps++ {
			nd := w.nodes[next-1-w.nodeBase]
			if em := w.memoAt(nd.event); em == nil || em.at <= at {
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
	for _, k := range bands {
		w.nodes = append(w.nodes, node{event: ord, next: w.heads[k]})
		w.heads[k] = w.nodeBase + uint32(len(w.nodes))
	}
	return ord
}

func (w *mapWindow) walk(key uint64, limit int, oldest int64) []uint32 {
	var out []uint32
	for n := w.heads[key]; n != 0 && limit > 0; {
		ord := n - 1
		if ord < w.nodeBase {
			break
		}
		nd := w.nodes[ord-w.nodeBase]
		n = nd.next
		m := w.memoAt(nd.event)
		if m == nil || m.dead {
			continue
		}
		if m.at < oldest {
			break
		}
		limit--
		out = append(out, nd.event)
	}
	return out
}

func (w *mapWindow) evict(cutoff int64) {
	i := 0
	for i < len(w.events) && w.events[i].at < cutoff {
		if ord := w.eventBase + uint32(i); w.byID[keyHash(w.events[i].id)] == ord {
			delete(w.byID, keyHash(w.events[i].id))
		}
		i++
	}
	w.eventBase += uint32(i)
	w.events = w.events[i:]
	j := 0
	for j < len(w.nodes) && w.nodes[j].event < w.eventBase {
		j++
	}
	w.nodeBase += uint32(j)
	w.nodes = w.nodes[j:]
}

// The window answers every lookup and walk as the map window did — the same
// events, in the same order — through new versions of events, events that
// arrive late, shared and empty sketches, and the front leaving as the horizon
// moves on (tombstones and table rebuilds included).
func TestTheWindowAnswersLikeTheMapWindow(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	w := newWindow()
	ref := &mapWindow{byID: map[uint64]uint32{}, heads: map[uint64]uint32{}}
	// A few band values, so that buckets are shared; a sketch draws each band
	// from them, or is empty.
	bandPool := make([][SketchRows]uint16, 40)
	for i := range bandPool {
		for r := range SketchRows {
			bandPool[i][r] = uint16(rnd.IntN(1 << 16))
		}
	}
	sketches := make([]Sketch, 60)
	for i := range sketches {
		if i == 0 {
			continue // the empty text
		}
		sketches[i].Size = uint16(1 + rnd.IntN(300))
		for b := range SketchBands {
			copy(sketches[i].Values[b*SketchRows:], bandPool[rnd.IntN(len(bandPool))][:])
		}
	}
	keyPool := make([]uint64, 30)
	for i := range keyPool {
		keyPool[i] = keyHash(fmt.Sprint("key", i))
	}
	now := int64(1_000_000)
	for step := range 20000 {
		now += int64(rnd.IntN(100))
		at := now
		if rnd.IntN(10) == 0 {
			at -= int64(rnd.IntN(5000)) // arrives late
		}
		id := fmt.Sprint("E", rnd.IntN(3000)) // some ids come again: new versions
		sk := &sketches[rnd.IntN(len(sketches))]
		var keys []uint64
		for range rnd.IntN(4) {
			if k := keyPool[rnd.IntN(len(keyPool))]; !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		subject := []uint32{uint32(step)}
		got := w.add(id, memo{at: at, sketch: *sk}, subject, nil, keys)
		want := ref.add(id, at, keys, refBandKeys(sk))
		if got != want {
			t.Fatalf("step %d: ordinal %d, want %d", step, got, want)
		}
		if rnd.IntN(50) == 0 {
			cutoff := now - int64(20000+rnd.IntN(20000))
			w.evict(cutoff)
			ref.evict(cutoff)
		}
		// Lookups of ids, some left, some never seen.
		for range 3 {
			id := fmt.Sprint("E", rnd.IntN(3100))
			m, ord := w.lookup(id)
			rm, rord := ref.lookup(id)
			if (m == nil) != (rm == nil) || m != nil && (ord != rord || w.id(m) != id) {
				t.Fatalf("step %d: lookup %s: %v %d, want %v %d", step, id, m != nil, ord, rm != nil, rord)
			}
		}
		// Walks of evidence keys, with and without an oldest report.
		k := keyPool[rnd.IntN(len(keyPool))]
		limit := 1 + rnd.IntN(candidatesPerKey)
		oldest := int64(math.MinInt64)
		if rnd.IntN(2) == 0 {
			oldest = now - int64(rnd.IntN(10000))
		}
		var walked []uint32
		w.walk(k, limit, oldest, func(ord uint32, _ *memo) bool { walked = append(walked, ord); return true })
		if want := ref.walk(k, limit, oldest); !slices.Equal(walked, want) {
			t.Fatalf("step %d: walk %d: %v, want %v", step, k, walked, want)
		}
		// Walks of every band of a sketch, as near-duplicates are found.
		q := &sketches[1+rnd.IntN(len(sketches)-1)]
		for b, key := range refBandKeys(q) {
			var banded []uint32
			w.walkBand(q, b, candidatesPerBand, func(ord uint32, _ *memo) bool { banded = append(banded, ord); return true })
			if want := ref.walk(key, candidatesPerBand, math.MinInt64); !slices.Equal(banded, want) {
				t.Fatalf("step %d: band %d: %v, want %v", step, b, banded, want)
			}
		}
	}
	if w.events.end == w.eventBase || w.events.first == 0 {
		t.Fatalf("the test never moved the window on: events %d to %d, chunks from %d", w.eventBase, w.events.end, w.events.first)
	}
}
