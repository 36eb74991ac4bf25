package connectors

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"fengqiao"
)

// ingest prepares, indexes, links and commits one batch, one batch at a time.
// Connectors read their upstreams in parallel, but a batch looks up the events it
// refers to, the events waiting for its own and the known projects, and what it
// parks or adds must be committed before another batch looks: else a survey parked
// while its work order is being indexed waits forever, and an event indexed while
// its project is being stored stays unlinked.
func (r *Runner) ingest(ctx context.Context, c fengqiao.Connector, batch *fengqiao.SyncBatch) (batchResult, error) {
	name := c.Name()
	r.ingestMu.Lock()
	defer r.ingestMu.Unlock()
	res, err := r.prepare(ctx, c, batch)
	if err != nil {
		return res, err
	}
	if len(res.indexed) > 0 {
		if err := r.Index.Upsert(ctx, res.indexed); err != nil {
			return res, err
		}
		if r.Linker != nil {
			if err := r.Linker.Link(ctx, res.indexed); err != nil {
				return res, err
			}
		}
	}
	if err := r.State.commit(name, res); err != nil {
		return res, err
	}
	r.addProjects(res.projects)
	return res, nil
}

// prepare turns what a connector read into what the runner writes: it quarantines
// records dated in the future or where no date can be written, keeps the newest
// version of each record, drops versions older than the index already holds,
// places events by their address, by the event they refer to or in the
// connector's default unit (DefaultPlacement), links events to
// the key projects they mention, validates, sets aside records identical to what
// is stored (a re-read of an unchanged page), and releases events that were
// waiting for these.
func (r *Runner) prepare(ctx context.Context, c fengqiao.Connector, batch *fengqiao.SyncBatch) (batchResult, error) {
	name, now := c.Name(), time.Now()
	var defaultOrg string
	if d, ok := c.(DefaultPlacement); ok {
		defaultOrg = d.DefaultOrgCode()
	}
	res := batchResult{cursor: batch.Next, at: now, recordsIn: map[string]int{}}
	reject := func(sourceID string, v any, err error) {
		raw, _ := json.Marshal(v)
		res.rejected = append(res.rejected, fengqiao.Reject{Connector: name, SourceID: sourceID,
			Reason: fengqiao.ErrorMessage(err), Raw: string(raw), At: now})
	}
	for _, rej := range batch.Rejects {
		rej.Connector, rej.At = name, now
		res.rejected = append(res.rejected, rej)
	}
	stored := r.projectMatcher()
	for _, p := range batch.Projects {
		if err := cmp.Or(CheckNotFuture("更新时间", p.UpdatedAt, now), checkWritable("更新时间", p.UpdatedAt), p.Validate(r.Tree)); err != nil {
			reject(p.Code, p, err)
			continue
		}
		if same(stored.project(p.Code), p) {
			res.unchanged++
			continue
		}
		res.projects = append(res.projects, p)
		res.recordsIn[name]++
	}
	// An event dated in the future would win over every real version after it; one
	// dated where no date can be written would fail the batch.
	var current []*fengqiao.Event
	for _, e := range batch.Events {
		if err := CheckDates(e, now); err != nil {
			reject(e.SourceID, e, err)
			continue
		}
		current = append(current, e)
	}

	events := newestByID(current)
	known, err := r.Index.Lookup(ctx, idsAndTargets(events))
	if err != nil {
		return res, err
	}
	inBatch := map[string]*fengqiao.Event{}
	for _, e := range events {
		inBatch[e.ID] = e
	}
	matcher := r.projectMatcher().with(res.projects)
	// accept indexes an event read by the named connector, or rejects it.
	accept := func(connector string, e *fengqiao.Event) {
		matcher.link(e)
		if err := e.Validate(r.Tree); err != nil {
			reject(e.SourceID, e, err)
			return
		}
		if old := known[e.ID]; old != nil && same(old, e) {
			res.unchanged++ // read again as it is stored: nothing to index or count
			res.clean = append(res.clean, e.SourceID)
			return
		}
		res.indexed = append(res.indexed, e)
		res.recordsIn[connector]++
	}
	for _, e := range events {
		// An out-of-order or replayed older version is dropped; one indexed with a
		// future date before such were refused does not count.
		if old := known[e.ID]; old != nil && old.UpdatedAt.After(e.UpdatedAt) && !beyondTolerance(old.UpdatedAt, now) {
			res.stale++
			continue
		}
		if e.OrgCode == "" && e.Address != "" {
			if u := r.Tree.Locate(e.Address); u != nil {
				e.OrgCode = u.Code // placed by the town and village its address names
			}
		}
		if e.OrgCode == "" && e.RefersTo != "" {
			target := inBatch[e.RefersTo]
			if target == nil {
				target = known[e.RefersTo]
			}
			if target == nil {
				res.parked = append(res.parked, e) // kept until the event it refers to arrives
				continue
			}
			e.OrgCode = target.OrgCode
		}
		if e.OrgCode == "" {
			e.OrgCode = defaultOrg // what nothing else places goes to the connector's default unit, if it has one
		}
		accept(name, e)
	}

	// Events that were waiting for the ones indexed now take their place.
	waiting, err := r.State.pendingFor(res.indexed)
	if err != nil {
		return res, err
	}
	for _, w := range waiting {
		w.event.OrgCode = w.target.OrgCode
		res.released = append(res.released, w.ref)
		accept(w.ref.connector(), w.event)
	}

	// Events already indexed that mention a project read now are linked to it.
	relinked, err := r.eventsMentioning(ctx, res.projects, res.indexed)
	if err != nil {
		return res, err
	}
	res.indexed = append(res.indexed, relinked...)
	return res, nil
}

// same reports whether a record read is the version stored, field for field:
// both written out as the store writes them (the index keeps an event's JSON,
// the state a project's) are the same text.
func same[T any](stored, read *T) bool {
	if stored == nil || read == nil {
		return false
	}
	a, errA := json.Marshal(stored)
	b, errB := json.Marshal(read)
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

// DefaultPlacement is a connector with a default unit: its events that neither
// an org code, an address the tree locates, nor the event they refer to place
// are placed there rather than quarantined. An app from outside the county
// reports matters it cannot code in the county's tree.
type DefaultPlacement interface {
	// DefaultOrgCode is the unit's code, "" for none.
	DefaultOrgCode() string
}

// newestByID keeps one version of each event: the latest updated, and of equal
// ones the last read.
func newestByID(events []*fengqiao.Event) []*fengqiao.Event {
	pos := map[string]int{}
	var out []*fengqiao.Event
	for _, e := range events {
		i, seen := pos[e.ID]
		switch {
		case !seen:
			pos[e.ID] = len(out)
			out = append(out, e)
		case !out[i].UpdatedAt.After(e.UpdatedAt):
			out[i] = e
		}
	}
	return out
}

func ids(events []*fengqiao.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func idsAndTargets(events []*fengqiao.Event) []string {
	out := ids(events)
	for _, e := range events {
		if e.RefersTo != "" {
			out = append(out, e.RefersTo)
		}
	}
	return out
}

// eventsMentioning returns the indexed events, other than those in skip, that
// mention one of projects by code or name and are not linked to a project yet,
// now linked.
func (r *Runner) eventsMentioning(ctx context.Context, projects []*fengqiao.Project, skip []*fengqiao.Event) ([]*fengqiao.Event, error) {
	skipped := map[string]bool{}
	for _, e := range skip {
		skipped[e.ID] = true
	}
	var out []*fengqiao.Event
	for _, p := range projects {
		for _, text := range []string{p.Code, p.Name} {
			f := fengqiao.EventFilter{Text: &text}
			for after := ""; ; {
				page, err := r.Index.Search(ctx, fengqiao.EventQuery{Filter: f, First: fengqiao.MaxPageSize, After: after})
				if err != nil {
					return nil, err
				}
				for _, e := range page.Events {
					if e.ProjectCode == "" && !skipped[e.ID] && mentions(e, text) {
						e.ProjectCode, skipped[e.ID] = p.Code, true
						out = append(out, e)
					}
				}
				if !page.HasNext {
					break
				}
				after = page.Cursors[len(page.Cursors)-1]
			}
		}
	}
	return out, nil
}

func mentions(e *fengqiao.Event, text string) bool {
	return strings.Contains(e.Title, text) || strings.Contains(e.Content, text)
}

// projectMatcher finds the key project an event mentions by code or full name.
type projectMatcher struct {
	projects []*fengqiao.Project // by code
}

// projectMatcher returns the runner's matcher, loading the known projects first.
func (r *Runner) projectMatcher() *projectMatcher {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.projects == nil {
		list, _ := r.State.Projects()
		r.projects = (&projectMatcher{}).with(list)
	}
	return r.projects
}

// addProjects makes committed projects known to later batches.
func (r *Runner) addProjects(projects []*fengqiao.Project) {
	if len(projects) == 0 {
		return
	}
	m := r.projectMatcher().with(projects)
	r.mu.Lock()
	r.projects = m
	r.mu.Unlock()
}

// project returns the known project of a code, nil if there is none.
func (m *projectMatcher) project(code string) *fengqiao.Project {
	if i, ok := slices.BinarySearchFunc(m.projects, code, func(p *fengqiao.Project, c string) int { return strings.Compare(p.Code, c) }); ok {
		return m.projects[i]
	}
	return nil
}

// with returns a matcher that also knows projects (a newer version replaces an older).
func (m *projectMatcher) with(projects []*fengqiao.Project) *projectMatcher {
	if len(projects) == 0 {
		return m
	}
	byCode := map[string]*fengqiao.Project{}
	for _, p := range append(slices.Clone(m.projects), projects...) {
		byCode[p.Code] = p
	}
	out := &projectMatcher{}
	for _, p := range byCode {
		out.projects = append(out.projects, p)
	}
	slices.SortFunc(out.projects, func(a, b *fengqiao.Project) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// link sets the project of an event that mentions one and names none.
func (m *projectMatcher) link(e *fengqiao.Event) {
	if e.ProjectCode != "" {
		return
	}
	for _, p := range m.projects {
		if mentions(e, p.Code) || mentions(e, p.Name) {
			e.ProjectCode = p.Code
			return
		}
	}
}
