package cockpit

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"fengqiao"
)

// Tally is an index that also keeps, in memory, one small row per event with the
// fields the cockpit counts (when, where, source, kind, status, tier, category,
// outcome, deadline). A cockpit figure is then one pass over the rows of its
// period, not dozens of searches, and so are the counts, facets and newest-first
// pages of any filter that names only what a row holds, whichever index serves
// the text. The rows are kept current by Upsert, after the index took the
// events, and persisted in a bbolt file beside it, so a restart reads them back
// instead of scanning the index.
type Tally struct {
	fengqiao.Index
	db *bolt.DB

	mu     sync.RWMutex
	byID   places             // each event's row, by id
	months map[int32][]row    // month number → the rows reported in it, in the order they came
	ids    map[int32]*idArena // month number → the ids of its rows, in the same order
	words  dict               // sources, kinds, statuses, tiers, categories, outcomes
	orgs   dict               // org codes
	paths  [][4]uint32        // paths[org] = the org's code at each level (county, town, village, grid); 0 for none
}

// idArena holds the ids of a month's rows one after another, ends[i] where the
// id of row i ends: two allocations a month instead of a string an event, and
// nothing for the garbage collector to scan.
type idArena struct {
	bytes []byte
	ends  []uint32
}

func (a *idArena) add(id string) {
	a.bytes = append(a.bytes, id...)
	a.ends = append(a.ends, uint32(len(a.bytes)))
}

// at returns the id of row i, its bytes in the arena (valid until the next add).
func (a *idArena) at(i int32) []byte {
	start := uint32(0)
	if i > 0 {
		start = a.ends[i-1]
	}
	return a.bytes[start:a.ends[i]]
}

// places finds the row of an id: an open-addressing table of places (month,
// and row + 1 so that 0 is an empty slot), the ids read back from the months'
// arenas — 8 bytes a slot where a map from the id string cost ~40 and a string.
type places struct {
	slots []place
	n     int
}

// idHash is where an id lies in places.
func idHash(id []byte) uint64 {
	h := uint64(14695981039346656037) // FNV-1a, then mixed: the slot is its low bits
	for _, c := range id {
		h = (h ^ uint64(c)) * 1099511628211
	}
	h ^= h >> 31
	h *= 0x7fb5d329728ea185
	return h ^ h>>27
}

// find returns the slot of id, or the empty slot where it would go.
func (p *places) find(t *Tally, id string) (slot int, found bool) {
	mask := len(p.slots) - 1
	for i := int(idHash([]byte(id))) & mask; ; i = (i + 1) & mask {
		at := p.slots[i]
		if at.i == 0 {
			return i, false
		}
		if string(t.ids[at.month].at(at.i-1)) == id {
			return i, true
		}
	}
}

// get returns the place of id's row.
func (p *places) get(t *Tally, id string) (place, bool) {
	if len(p.slots) == 0 {
		return place{}, false
	}
	if i, ok := p.find(t, id); ok {
		at := p.slots[i]
		return place{at.month, at.i - 1}, true
	}
	return place{}, false
}

// set makes at the place of id's row.
func (p *places) set(t *Tally, id string, at place) {
	if (p.n+1)*4 > len(p.slots)*3 {
		p.grow(t)
	}
	i, found := p.find(t, id)
	if !found {
		p.n++
	}
	p.slots[i] = place{at.month, at.i + 1}
}

// grow doubles the table (at least 1024 slots).
func (p *places) grow(t *Tally) {
	old := p.slots
	p.slots = make([]place, max(1024, 2*len(old)))
	mask := len(p.slots) - 1
	for _, at := range old {
		if at.i == 0 {
			continue
		}
		i := int(idHash(t.ids[at.month].at(at.i-1))) & mask
		for p.slots[i].i != 0 {
			i = (i + 1) & mask
		}
		p.slots[i] = at
	}
}

// each calls fn with the id of every row the table places.
func (p *places) each(t *Tally, fn func(id string)) {
	for _, at := range p.slots {
		if at.i != 0 {
			fn(string(t.ids[at.month].at(at.i - 1)))
		}
	}
}

// row is one event as the cockpit counts it. Strings are numbers in the tally's
// dictionaries; times are Unix nanoseconds.
type row struct {
	reported, deadline int64 // deadline maxNano: none
	org                uint32
	source, kind       uint32
	status, level      uint32
	category, outcome  uint32
	// retired: the index no longer holds the event (retention moved it out);
	// the figures count it all the same.
	retired bool
}

// place is where a row is: its month and its position in the month.
type place struct{ month, i int32 }

// moved marks the row an event left for another month.
const moved = maxNano

var bucketRows = []byte("rows")

// OpenTally opens the tally kept in the bbolt file at path for index. A tally that
// does not hold every event of the index (a new file, or an index filled before
// it) is rebuilt by reading the index through.
func OpenTally(ctx context.Context, index fengqiao.Index, path string) (*Tally, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open cockpit tally %s: %w", path, err)
	}
	t := &Tally{Index: index, db: db, months: map[int32][]row{}, ids: map[int32]*idArena{}}
	t.words.add("")
	t.orgs.add("")
	t.paths = append(t.paths, [4]uint32{})
	if err := t.load(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return t, nil
}

// load reads the persisted rows, and rebuilds them from the index when they are
// not all there.
func (t *Tally) load(ctx context.Context) error {
	err := t.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketRows)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			r, err := t.decode(v)
			if err != nil {
				return fmt.Errorf("cockpit tally row %s: %w", k, err)
			}
			t.put(string(k), r)
			return nil
		})
	})
	if err != nil {
		return err
	}
	indexed, err := t.Index.Count(ctx, fengqiao.EventFilter{})
	if err != nil || indexed == t.held() {
		return err
	}
	return t.rebuild(ctx)
}

// held counts the rows of events the index holds.
func (t *Tally) held() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	n := 0
	for _, rows := range t.months {
		for i := range rows {
			if rows[i].reported != moved && !rows[i].retired {
				n++
			}
		}
	}
	return n
}

// Scanner is an index that can read every event it holds, in any order, a
// batch at a time. An index that cannot is read through newest first, page by page.
type Scanner interface {
	Scan(ctx context.Context, fn func([]*fengqiao.Event) error) error
}

// rebuild tallies every event of the index anew, and marks retired the rows of
// events it no longer holds (they stay counted).
func (t *Tally) rebuild(ctx context.Context) error {
	seen := map[string]bool{}
	tally := func(events []*fengqiao.Event) error {
		for _, e := range events {
			seen[e.ID] = true
		}
		return t.tally(events)
	}
	err := errors.ErrUnsupported
	if s, ok := t.Index.(Scanner); ok {
		err = s.Scan(ctx, tally)
	}
	for after := ""; errors.Is(err, errors.ErrUnsupported); {
		page, err := t.Index.Search(ctx, fengqiao.EventQuery{First: fengqiao.MaxPageSize, After: after})
		if err != nil {
			return err
		}
		if err := tally(page.Events); err != nil {
			return err
		}
		if !page.HasNext {
			break
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
	if err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	t.mu.RLock()
	var gone []string
	t.byID.each(t, func(id string) {
		if !seen[id] {
			gone = append(gone, id)
		}
	})
	t.mu.RUnlock()
	return t.retire(gone)
}

// Lookup implements fengqiao.Index, asking the index only for the ids the tally
// has rows of: every event the index holds has one, so a batch of new events (a
// first sync) costs the index nothing.
func (t *Tally) Lookup(ctx context.Context, ids []string) (map[string]*fengqiao.Event, error) {
	t.mu.RLock()
	known := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := t.byID.get(t, id); ok {
			known = append(known, id)
		}
	}
	t.mu.RUnlock()
	if len(known) == 0 {
		return map[string]*fengqiao.Event{}, ctx.Err()
	}
	return t.Index.Lookup(ctx, known)
}

// Delete implements fengqiao.Index: the events leave the index, but their rows
// stay, marked retired, so that the figures of old periods do not change.
func (t *Tally) Delete(ctx context.Context, ids []string) error {
	if err := t.retire(ids); err != nil {
		return err
	}
	return t.Index.Delete(ctx, ids)
}

// retire marks the rows of ids retired, persisted first.
func (t *Tally) retire(ids []string) error {
	t.mu.Lock()
	var known []string
	var rows []row
	for _, id := range ids {
		if p, ok := t.byID.get(t, id); ok {
			r := t.months[p.month][p.i]
			r.retired = true
			known, rows = append(known, id), append(rows, r)
		}
	}
	t.mu.Unlock()
	return t.save(known, rows)
}

// Upsert implements fengqiao.Index: the index takes the events, then the tally.
func (t *Tally) Upsert(ctx context.Context, events []*fengqiao.Event) error {
	if err := t.Index.Upsert(ctx, events); err != nil {
		return err
	}
	return t.tally(events)
}

// tally persists the events' rows, then shows them to the figures.
func (t *Tally) tally(events []*fengqiao.Event) error {
	ids, rows := make([]string, len(events)), make([]row, len(events))
	t.mu.Lock()
	for i, e := range events {
		ids[i], rows[i] = e.ID, t.rowOf(e)
	}
	t.mu.Unlock()
	return t.save(ids, rows)
}

// save persists the rows of ids in one transaction, then shows them to the figures.
func (t *Tally) save(ids []string, rows []row) error {
	if len(ids) == 0 {
		return nil
	}
	encoded := make([][]byte, len(rows))
	t.mu.RLock()
	for i := range rows {
		encoded[i] = t.encode(rows[i])
	}
	t.mu.RUnlock()
	err := t.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRows)
		for i, id := range ids {
			if err := b.Put([]byte(id), encoded[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cockpit tally: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, id := range ids {
		t.put(id, rows[i])
	}
	return nil
}

// rowOf is e's row; the caller holds mu.
func (t *Tally) rowOf(e *fengqiao.Event) row {
	r := row{reported: unixNano(e.ReportedAt), org: t.org(e.OrgCode),
		source: t.words.add(e.Origin()), kind: t.words.add(string(e.Kind)), status: t.words.add(string(e.Status)),
		level: t.words.add(string(e.HandlingLevel)), category: t.words.add(e.Category), outcome: t.words.add(e.Outcome)}
	r.deadline = maxNano // none: never overdue
	if e.Deadline != nil {
		r.deadline = unixNano(*e.Deadline)
	}
	return r
}

// put places the row of event id: where it was, unless it moved to another
// month; the caller holds mu.
func (t *Tally) put(id string, r row) {
	m := monthOf(r.reported)
	if p, ok := t.byID.get(t, id); ok && p.month == m {
		t.months[m][p.i] = r
		return
	} else if ok {
		t.months[p.month][p.i].reported = moved
	}
	ids := t.ids[m]
	if ids == nil {
		ids = &idArena{}
		t.ids[m] = ids
	}
	t.months[m] = append(t.months[m], r)
	ids.add(id)
	t.byID.set(t, id, place{month: m, i: int32(len(t.months[m]) - 1)})
}

// org numbers an org code, learning its path; the caller holds mu.
func (t *Tally) org(code string) uint32 {
	n := t.orgs.add(code)
	for len(t.paths) < len(t.orgs.names) {
		t.paths = append(t.paths, [4]uint32{})
	}
	if t.paths[n] != ([4]uint32{}) || len(code) < 6 {
		return n
	}
	var path [4]uint32 // a code of any length may have been numbered as the prefix of a longer one first
	for level, size := range []int{6, 9, 12, 15} {
		if len(code) >= size {
			path[level] = t.orgs.add(code[:size])
		}
	}
	for len(t.paths) < len(t.orgs.names) {
		t.paths = append(t.paths, [4]uint32{})
	}
	t.paths[n] = path
	return n
}

// unitLevel is the path level of an org code, the one its length gives.
func unitLevel(code string) int {
	switch len(code) {
	case 6:
		return 0
	case 9:
		return 1
	case 12:
		return 2
	}
	return 3
}

// unixNano is t in Unix nanoseconds, clamped to what they can hold.
func unixNano(t time.Time) int64 {
	switch {
	case t.Year() < 1678:
		return minNano
	case t.Year() > 2261:
		return maxNano
	}
	return t.UnixNano()
}

const (
	minNano = -1 << 63
	maxNano = 1<<63 - 1
)

// monthOf numbers the UTC month of a time in Unix nanoseconds.
func monthOf(nano int64) int32 {
	t := time.Unix(0, nano).UTC()
	return int32(t.Year()*12 + int(t.Month()) - 1)
}

// scan calls fn, holding a read lock, with every row reported in [from, to) and,
// unless unit is "", placed in unit or below it: its place, the row and its path.
func (t *Tally) scan(from, to time.Time, unit string, fn func(at place, r *row, path *[4]uint32)) {
	t.scanNanos(unixNano(from), unixNano(to), unit, fn)
}

// scanNanos is scan over [lo, hi) in Unix nanoseconds.
func (t *Tally) scanNanos(lo, hi int64, unit string, fn func(at place, r *row, path *[4]uint32)) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	level, want := 0, uint32(0)
	if unit != "" {
		n, known := t.orgs.number(unit)
		if !known {
			return
		}
		level, want = unitLevel(unit), n
	}
	for m := monthOf(lo); m <= monthOf(hi); m++ {
		rows := t.months[m]
		for i := range rows {
			r := &rows[i]
			if r.reported < lo || r.reported >= hi {
				continue
			}
			path := &t.paths[r.org]
			if want != 0 && path[level] != want {
				continue
			}
			fn(place{m, int32(i)}, r, path)
		}
	}
}

// answers reports whether the rows answer counts and facets of f: it names only
// what a row holds (no text, identifier, party, project or referred event).
func answers(f fengqiao.EventFilter) bool {
	return (f.Text == nil || *f.Text == "") && (f.Identifier == nil || *f.Identifier == "") && f.PartyID == nil &&
		f.ProjectCode == nil && f.RefersTo == nil && (f.OrgCode == nil || len(*f.OrgCode) >= 6)
}

// match calls fn with the rows of the events the index holds that match f, which
// the rows answer.
func (t *Tally) match(f fengqiao.EventFilter, fn func(r *row, path *[4]uint32)) {
	lo, hi, unit, matches := t.predicate(f)
	t.scanNanos(lo, hi, unit, func(_ place, r *row, path *[4]uint32) {
		if matches(r) {
			fn(r, path)
		}
	})
}

// predicate turns f, which the rows answer, into the span and unit to scan and a
// test of the rest; rows of events the index no longer holds fail it.
func (t *Tally) predicate(f fengqiao.EventFilter) (lo, hi int64, unit string, matches func(*row) bool) {
	sets := [][]string{strs(f.Sources), strs(f.Kinds), strs(f.Statuses), f.Categories, strs(f.HandlingLevels), f.Outcomes, f.Apps}
	var words []string
	for _, s := range sets {
		words = append(words, s...)
	}
	numbers, _ := t.numbers(words, nil)
	var in [7]set // nil: not filtered
	for i, s := range sets {
		if len(s) > 0 {
			in[i], numbers = numbers[:len(s)], numbers[len(s):]
		}
	}
	lo, hi = minNano, maxNano
	if f.From != nil {
		lo = unixNano(*f.From)
	}
	if f.To != nil {
		hi = unixNano(*f.To)
	}
	deadline := int64(maxNano)
	if f.DeadlineBefore != nil {
		deadline = unixNano(*f.DeadlineBefore)
	}
	if f.OrgCode != nil {
		unit = *f.OrgCode
	}
	allows := func(s set, n uint32) bool { return s == nil || s.has(n) }
	// A row's source is its origin: an app's name stands for source APP too.
	anyApp := slices.Contains(f.Sources, fengqiao.SourceApp)
	fromSources := func(n uint32) bool {
		return allows(in[0], n) || anyApp && !fengqiao.Source(t.words.names[n]).Valid()
	}
	return lo, hi, unit, func(r *row) bool {
		return !r.retired && fromSources(r.source) && allows(in[6], r.source) && allows(in[1], r.kind) && allows(in[2], r.status) &&
			allows(in[3], r.category) && allows(in[4], r.level) && allows(in[5], r.outcome) && (f.DeadlineBefore == nil || r.deadline < deadline)
	}
}

// splitApps parts the counts of origins, as the tally's rows keep them, into
// counts of sources, the apps' summed as APP, and counts of the apps.
func splitApps(origins []fengqiao.FacetCount) (sources, apps []fengqiao.FacetCount) {
	all := 0
	for _, c := range origins {
		if fengqiao.Source(c.Value).Valid() {
			sources = append(sources, c)
		} else {
			apps = append(apps, c)
			all += c.Count
		}
	}
	if all == 0 {
		return sources, apps
	}
	if i := slices.IndexFunc(sources, func(c fengqiao.FacetCount) bool { return c.Value == string(fengqiao.SourceApp) }); i >= 0 {
		sources[i].Count += all // rows kept before apps had names
	} else {
		sources = append(sources, fengqiao.FacetCount{Value: string(fengqiao.SourceApp), Count: all})
	}
	sortCounts(sources)
	return sources, apps
}

// key is a row's place in newest-first order: its reporting time, then its id.
type key struct {
	at int64
	id string
}

func (k key) before(o key) bool { return k.at < o.at || k.at == o.at && k.id < o.id }

// beforeRow is before with the row's key given as its time and id's bytes.
func (k key) beforeRow(at int64, id []byte) bool {
	return k.at < at || k.at == at && k.id < string(id)
}

// rowBefore reports whether the row of time at and id comes before k.
func rowBefore(at int64, id []byte, k key) bool {
	return at < k.at || at == k.at && string(id) < k.id
}

// newest returns the keys of the n newest rows matching f older than after (all,
// when after is nil), newest first.
func (t *Tally) newest(f fengqiao.EventFilter, after *key, n int) []key {
	lo, hi, unit, matches := t.predicate(f)
	t.mu.RLock()
	defer t.mu.RUnlock()
	level, want := 0, uint32(0)
	if unit != "" {
		u, known := t.orgs.number(unit)
		if !known {
			return nil
		}
		level, want = unitLevel(unit), u
	}
	if after != nil && after.at < hi {
		hi = after.at + 1 // rows at the cursor's time may still follow it, by id
	}
	var out []key
	for m := monthOf(hi); m >= monthOf(lo) && len(out) < n; m-- {
		// The months before hold only older rows: the page is full once one is.
		var best []key // the month's newest, at most n-len(out), newest first
		rows, ids := t.months[m], t.ids[m]
		for i := range rows {
			r := &rows[i]
			if r.reported < lo || r.reported >= hi || want != 0 && t.paths[r.org][level] != want || !matches(r) {
				continue
			}
			id := ids.at(int32(i))
			if after != nil && !rowBefore(r.reported, id, *after) || len(best) == n-len(out) && !best[len(best)-1].beforeRow(r.reported, id) {
				continue
			}
			k := key{r.reported, string(id)}
			j, _ := slices.BinarySearchFunc(best, k, func(a, b key) int {
				if b.before(a) {
					return -1
				}
				return 1
			})
			best = slices.Insert(best, j, k)
			if len(best) > n-len(out) {
				best = best[:n-len(out)]
			}
		}
		out = append(out, best...)
	}
	return out
}

// Search implements fengqiao.Index: newest-first pages of filters the rows answer
// come from the rows (the page's ids in order, then their events from the index,
// and the total), the rest from the index. Cursors are the index's own.
func (t *Tally) Search(ctx context.Context, q fengqiao.EventQuery) (*fengqiao.EventPage, error) {
	if q.ByRelevance || !answers(q.Filter) {
		return t.Index.Search(ctx, q)
	}
	cursor, err := fengqiao.DecodeCursor(q.After)
	if err != nil {
		return nil, err
	}
	var after *key
	if cursor != "" {
		at, id, ok := fengqiao.ParseSortKey(cursor)
		if !ok {
			return t.Index.Search(ctx, q) // not a cursor the rows know; the index judges it
		}
		after = &key{unixNano(at), id}
	}
	page := &fengqiao.EventPage{}
	t.match(q.Filter, func(*row, *[4]uint32) { page.Total++ })
	size := max(0, min(q.First, fengqiao.MaxPageSize))
	if size == 0 {
		return page, ctx.Err()
	}
	keys := t.newest(q.Filter, after, size+1)
	page.HasNext = len(keys) > size
	keys = keys[:min(size, len(keys))]
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.id
	}
	found, err := t.Index.Lookup(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if e := found[id]; e != nil {
			page.Events = append(page.Events, e)
			page.Cursors = append(page.Cursors, fengqiao.EncodeCursor(fengqiao.SortKey(e.ReportedAt, e.ID)))
			page.Highlights = append(page.Highlights, nil)
		}
	}
	return page, ctx.Err()
}

func strs[S ~string](values []S) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// Count implements fengqiao.Index: from the rows when they answer f, else from the index.
func (t *Tally) Count(ctx context.Context, f fengqiao.EventFilter) (int, error) {
	if !answers(f) {
		return t.Index.Count(ctx, f)
	}
	n := 0
	t.match(f, func(*row, *[4]uint32) { n++ })
	return n, ctx.Err()
}

// Facets implements fengqiao.Index: from the rows when they answer f, else from the index.
func (t *Tally) Facets(ctx context.Context, f fengqiao.EventFilter) (*fengqiao.Facets, error) {
	if !answers(f) {
		return t.Index.Facets(ctx, f)
	}
	var c facetCounts
	t.match(f, c.add)
	return c.facets(t), ctx.Err()
}

// facetCounts count rows by the fields fengqiao.Facets splits them by.
type facetCounts struct{ sources, categories, towns, kinds, statuses, levels counts }

func (c *facetCounts) add(r *row, path *[4]uint32) {
	c.sources.add(r.source)
	c.categories.add(r.category)
	c.towns.add(path[1])
	c.kinds.add(r.kind)
	c.statuses.add(r.status)
	c.levels.add(r.level)
}

func (c *facetCounts) facets(t *Tally) *fengqiao.Facets {
	sources, apps := splitApps(t.names(c.sources, false))
	return &fengqiao.Facets{Sources: sources, Apps: apps, Categories: t.names(c.categories, false), Towns: t.names(c.towns, true),
		Kinds: t.names(c.kinds, false), Statuses: t.names(c.statuses, false), HandlingLevels: t.names(c.levels, false)}
}

// lookup returns the place and the reporting time of event id's row.
func (t *Tally) lookup(id string) (at place, reported int64, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if at, ok = t.byID.get(t, id); ok {
		reported = t.months[at.month][at.i].reported
	}
	return at, reported, ok
}

// numbers returns the dictionary number of each word, or none (which no row
// has) for a word no event carries; orgs are numbered as org codes.
func (t *Tally) numbers(words []string, orgs []string) (w, o []uint32) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, s := range words {
		n, ok := t.words.number(s)
		if !ok {
			n = none
		}
		w = append(w, n)
	}
	for _, s := range orgs {
		n, ok := t.orgs.number(s)
		if !ok {
			n = none
		}
		o = append(o, n)
	}
	return w, o
}

// count is the count of word in c.
func (t *Tally) count(c counts, word string) int {
	n, _ := t.numbers([]string{word}, nil)
	return c.of(n[0])
}

// none is the number of a word no row has.
const none = ^uint32(0)

// counts are how many rows have each numbered word (or org code).
type counts []int

func (c *counts) add(n uint32) {
	if int(n) >= len(*c) {
		*c = append(*c, make([]int, int(n)+1-len(*c))...)
	}
	(*c)[n]++
}

func (c counts) of(n uint32) int {
	if int(n) < len(c) {
		return c[n]
	}
	return 0
}

// names returns counts of numbered words (or org codes) as facet counts, most
// first, leaving out the empty word.
func (t *Tally) names(c counts, orgs bool) []fengqiao.FacetCount {
	t.mu.RLock()
	defer t.mu.RUnlock()
	d := &t.words
	if orgs {
		d = &t.orgs
	}
	var out []fengqiao.FacetCount
	for n, count := range c {
		if name := d.names[n]; name != "" && count > 0 {
			out = append(out, fengqiao.FacetCount{Value: name, Count: count})
		}
	}
	sortCounts(out)
	return out
}

// Close closes the tally and its index.
func (t *Tally) Close() error { return errors.Join(t.db.Close(), t.Index.Close()) }

// dict numbers strings: the same string, the same number.
type dict struct {
	names   []string
	numbers map[string]uint32
}

func (d *dict) number(s string) (uint32, bool) {
	n, ok := d.numbers[s]
	return n, ok
}

func (d *dict) add(s string) uint32 {
	if n, ok := d.numbers[s]; ok {
		return n
	}
	if d.numbers == nil {
		d.numbers = map[string]uint32{}
	}
	n := uint32(len(d.names))
	d.names = append(d.names, s)
	d.numbers[s] = n
	return n
}

// encode writes a row for the file: its times, then its strings, each after its
// length, then 1 if it is retired. The caller holds mu.
func (t *Tally) encode(r row) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(r.reported))
	b = binary.BigEndian.AppendUint64(b, uint64(r.deadline))
	for _, s := range []string{t.orgs.names[r.org], t.words.names[r.source], t.words.names[r.kind], t.words.names[r.status],
		t.words.names[r.level], t.words.names[r.category], t.words.names[r.outcome]} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if r.retired {
		b = append(b, 1)
	}
	return b
}

// decode reads a row written by encode; the caller holds mu or owns t.
func (t *Tally) decode(b []byte) (row, error) {
	if len(b) < 16 {
		return row{}, errors.New("short row")
	}
	r := row{reported: int64(binary.BigEndian.Uint64(b)), deadline: int64(binary.BigEndian.Uint64(b[8:]))}
	rd := bytes.NewReader(b[16:])
	var fields [7]string
	for i := range fields {
		n, err := binary.ReadUvarint(rd)
		if err != nil || n > uint64(rd.Len()) {
			return row{}, errors.New("malformed row")
		}
		s := make([]byte, n)
		rd.Read(s)
		fields[i] = string(s)
	}
	r.org = t.org(fields[0])
	r.source, r.kind, r.status = t.words.add(fields[1]), t.words.add(fields[2]), t.words.add(fields[3])
	r.level, r.category, r.outcome = t.words.add(fields[4]), t.words.add(fields[5]), t.words.add(fields[6])
	flag, err := rd.ReadByte()
	r.retired = err == nil && flag == 1
	return r, nil
}

// sortCounts orders counts most first, then by value.
func sortCounts(out []fengqiao.FacetCount) {
	slices.SortFunc(out, func(a, b fengqiao.FacetCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Value, b.Value)
	})
}
