package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/gateway"
	"fengqiao/resolvers"
)

// downUpstream answers every live read with the event as indexed, marked stale:
// the upstream is down.
type downUpstream struct{ readAt time.Time }

func (u downUpstream) Current(_ context.Context, e *fengqiao.Event) fengqiao.LiveRecord {
	return fengqiao.LiveRecord{Event: e, Stale: true, ReadAt: u.readAt, Upstream: "人民调解",
		Err: fengqiao.Errorf(fengqiao.EUNAVAILABLE, "上游系统无响应")}
}

func TestAStaleLiveReadIsShownAsItsUpstreamsErrorNotAnInternalOne(t *testing.T) {
	t.Parallel()
	readAt := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	b := setupWith(t, gateway.Config{}, func(r *resolvers.Resolver) { r.Upstreams = downUpstream{readAt: readAt} })
	b.sync.ready.Store(true)

	status, r := b.query(t, b.token(t, fengqiao.RoleCommander, county),
		`{ events(first: 2) { edges { node { title live { stale upstream readAt event { title } } } } } }`, nil)
	var data struct {
		Events struct {
			Edges []struct {
				Node struct {
					Title string
					Live  struct {
						Stale    bool
						Upstream string
						ReadAt   time.Time
						Event    struct{ Title string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(r.Data, &data); err != nil || status != 200 || len(data.Events.Edges) != 2 {
		t.Fatalf("%d %s: %v", status, r.Data, err)
	}
	// The last known version answers, and the rest of the query with it.
	for _, e := range data.Events.Edges {
		l := e.Node.Live
		if !l.Stale || l.Upstream != "人民调解" || !l.ReadAt.Equal(readAt) || l.Event.Title != e.Node.Title {
			t.Errorf("live field %+v of %s", l, e.Node.Title)
		}
	}
	// One entry per stale read, as the resolver wrote it: its code, the upstream
	// named, why — not 系统内部错误.
	if len(r.Errors) != 2 {
		t.Fatalf("errors %+v", r.Errors)
	}
	for _, e := range r.Errors {
		if e.Extensions["code"] != fengqiao.EUNAVAILABLE || e.Extensions["upstream"] != "人民调解" || e.Extensions["stale"] != true ||
			!strings.Contains(e.Message, "人民调解") || !strings.Contains(e.Message, "上游系统无响应") {
			t.Errorf("error entry %+v", e)
		}
	}
	if strings.Contains(b.logs.String(), "graphql error") {
		t.Errorf("a stale read logged as an internal error:\n%s", b.logs.String())
	}
}
