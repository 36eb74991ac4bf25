// Package resolvers answers the GraphQL schema in schema/ over the domain: thin
// translations of arguments into index and connector calls, every one scoped to the
// caller's org subtree.
package resolvers

import (
	"context"
	"strings"

	"fengqiao"
	"fengqiao/orders"
)

// Resolver holds what the resolvers read. It is built once and shared by requests.
type Resolver struct {
	Tree         *fengqiao.OrgTree
	Index        fengqiao.Index
	Sync         fengqiao.SyncService
	ChainService fengqiao.ChainService
	Clusters     fengqiao.ClusterService
	Audit        fengqiao.AuditLog
	Assessor     fengqiao.RiskAssessor
	Figures      fengqiao.CockpitService
	Upstreams    fengqiao.LiveReader
	// Feed returns the events indexed from now until ctx ends.
	Feed func(ctx context.Context) <-chan *fengqiao.Event
	// Orders keeps the orders (交办/督办) and their matters.
	OrderService *orders.Service

	lists lists
}

// principal returns the caller, or EUNAUTHORIZED.
func principal(ctx context.Context) (*fengqiao.Principal, error) {
	p := fengqiao.PrincipalFrom(ctx)
	if p == nil {
		return nil, fengqiao.Errorf(fengqiao.EUNAUTHORIZED, "请先登录")
	}
	return p, nil
}

// scope returns the org unit code a read is limited to: the requested one, which
// must lie inside the caller's subtree, or else the caller's own unit.
func (r *Resolver) scope(ctx context.Context, requested *string) (string, error) {
	p, err := principal(ctx)
	if err != nil {
		return "", err
	}
	if requested == nil || *requested == "" {
		return p.OrgCode, nil
	}
	if r.Tree.Unit(*requested) == nil {
		return "", fengqiao.Errorf(fengqiao.EINVALID, "组织单元编码不存在：%s", *requested)
	}
	if !strings.HasPrefix(*requested, p.OrgCode) {
		return "", fengqiao.Errorf(fengqiao.EFORBIDDEN, "无权查看该组织单元的数据：%s", *requested)
	}
	return *requested, nil
}

// scopedFilter returns f limited to the caller's subtree.
func (r *Resolver) scopedFilter(ctx context.Context, f *fengqiao.EventFilter) (fengqiao.EventFilter, error) {
	var out fengqiao.EventFilter
	if f != nil {
		out = *f
	}
	code, err := r.scope(ctx, out.OrgCode)
	if err != nil {
		return out, err
	}
	if err := r.checkFilter(ctx, &out); err != nil {
		return out, err
	}
	out.OrgCode = &code
	if code == r.Tree.Root().Code {
		out.OrgCode = nil // every indexed event lies in the tree; no filter lets the index count in O(1)
	}
	return out, nil
}

// visible reports whether the caller may see an event placed in orgCode.
func visible(ctx context.Context, orgCode string) bool {
	p := fengqiao.PrincipalFrom(ctx)
	return p != nil && strings.HasPrefix(orgCode, p.OrgCode)
}

// pageSize returns the page size asked for, or dflt, refusing one outside
// 0..MaxPageSize.
func pageSize(first *int, dflt int) (int, error) {
	n := dflt
	if first != nil {
		n = *first
	}
	if n < 0 || n > fengqiao.MaxPageSize {
		return 0, fengqiao.Errorf(fengqiao.ELIMIT, "每页条数须在0到%d之间，收到%d", fengqiao.MaxPageSize, n)
	}
	return n, nil
}

// connection reads one page of events, newest first, as a Relay connection. The
// filter must already be scoped.
func (r *Resolver) connection(ctx context.Context, f fengqiao.EventFilter, first *int, after *string) (*EventConnection, error) {
	return r.orderedConnection(ctx, f, first, after, false)
}

func (r *Resolver) orderedConnection(ctx context.Context, f fengqiao.EventFilter, first *int, after *string, byRelevance bool) (*EventConnection, error) {
	n, err := pageSize(first, 20)
	if err != nil {
		return nil, err
	}
	q := fengqiao.EventQuery{Filter: f, First: n, ByRelevance: byRelevance}
	if after != nil {
		if err := fengqiao.CheckCursor(*after, byRelevance); err != nil {
			return nil, err
		}
		q.After = *after
	}
	page, err := r.Index.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	conn := &EventConnection{TotalCount: page.Total, PageInfo: &PageInfo{HasNextPage: page.HasNext}, filter: f}
	for i, e := range page.Events {
		edge := &EventEdge{Cursor: page.Cursors[i], Node: e, Highlights: []string{}}
		if i < len(page.Highlights) && page.Highlights[i] != nil {
			edge.Highlights = page.Highlights[i]
		}
		conn.Edges = append(conn.Edges, edge)
	}
	if n := len(page.Cursors); n > 0 {
		conn.PageInfo.EndCursor = &page.Cursors[n-1]
	}
	return conn, nil
}

// partyEvents reads the events in the caller's subtree that name a party.
func (r *Resolver) partyEvents(ctx context.Context, partyID string, first *int, after *string) (*EventConnection, error) {
	f, err := r.scopedFilter(ctx, &fengqiao.EventFilter{PartyID: &partyID})
	if err != nil {
		return nil, err
	}
	return r.connection(ctx, f, first, after)
}

// findParty returns the party with id from the newest event in the caller's subtree
// that names it, or nil.
func (r *Resolver) findParty(ctx context.Context, id string) (*fengqiao.Party, error) {
	f, err := r.scopedFilter(ctx, &fengqiao.EventFilter{PartyID: &id})
	if err != nil {
		return nil, err
	}
	page, err := r.Index.Search(ctx, fengqiao.EventQuery{Filter: f, First: 1})
	if err != nil || len(page.Events) == 0 {
		return nil, err
	}
	for _, p := range page.Events[0].Parties {
		if p.PartyID() == id {
			return &p, nil
		}
	}
	return nil, nil
}

// originTitle is how people read an event's origin (see fengqiao.Event.Origin):
// a source's Chinese name, a long-tail app's own title; anything else as it is.
func (r *Resolver) originTitle(origin string) string {
	if title, ok := fengqiao.SourceTitles[fengqiao.Source(origin)]; ok {
		return title
	}
	if r.Sync != nil {
		if title := r.Sync.Title(origin); title != "" {
			return title
		}
	}
	return origin
}
