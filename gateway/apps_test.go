package gateway_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/gateway"
	"fengqiao/resolvers"
)

// TestAppsAreNamedByTheirTitle: a long-tail app's events carry the app (its
// connector's name) and its title as their source name, and facets count them
// by app under the app's title; a filter by app keeps its own events only.
func TestAppsAreNamedByTheirTitle(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
	b := setupWith(t, gateway.Config{}, func(r *resolvers.Resolver) {
		var events []*fengqiao.Event
		for _, app := range []string{"board", "board", "retired"} {
			sid := "M" + string(rune('1'+len(events)))
			events = append(events, &fengqiao.Event{ID: fengqiao.AppEventID(app, sid), Source: fengqiao.SourceApp, App: app, SourceID: sid,
				Kind: fengqiao.KindRequest, Title: "留言" + sid, ReportedAt: at, OccurredAt: at, UpdatedAt: at,
				Status: fengqiao.StatusReceived, OrgCode: villageA})
		}
		if err := r.Index.Upsert(context.Background(), events); err != nil {
			t.Fatal(err)
		}
	})
	token := b.token(t, fengqiao.RoleAnalyst, county)
	_, r := b.query(t, token, `{
		apps: events(filter: {sources: [APP]}, first: 10) { edges { node { id app sourceName } } facets { sources { value label count } apps { value label count } } }
		board: events(filter: {apps: ["board"]}) { totalCount }
		mediation: events(filter: {sources: [MEDIATION]}, first: 1) { edges { node { app sourceName } } }
	}`, nil)
	var data struct {
		Apps struct {
			Edges []struct {
				Node struct {
					ID         string
					App        *string
					SourceName string
				}
			}
			Facets struct {
				Sources, Apps []struct {
					Value, Label string
					Count        int
				}
			}
		}
		Board     struct{ TotalCount int }
		Mediation struct {
			Edges []struct {
				Node struct {
					App        *string
					SourceName string
				}
			}
		}
	}
	if err := json.Unmarshal(r.Data, &data); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%s %v", r.Data, r.Errors)
	}
	names := map[string]string{}
	for _, e := range data.Apps.Edges {
		if e.Node.App == nil {
			t.Fatalf("app event %s has no app", e.Node.ID)
		}
		names[*e.Node.App] = e.Node.SourceName
	}
	// An app no connector runs any more keeps its name.
	if want := map[string]string{"board": "市长信箱", "retired": "retired"}; len(names) != 2 || names["board"] != want["board"] || names["retired"] != want["retired"] {
		t.Errorf("source names %v, want %v", names, want)
	}
	if f := data.Apps.Facets; len(f.Apps) != 2 || f.Apps[0].Value != "board" || f.Apps[0].Label != "市长信箱" || f.Apps[0].Count != 2 ||
		len(f.Sources) != 1 || f.Sources[0].Label != "其他应用" || f.Sources[0].Count != 3 {
		t.Errorf("facets %+v", f)
	}
	if data.Board.TotalCount != 2 {
		t.Errorf("filter by app board: %d events, want 2", data.Board.TotalCount)
	}
	if m := data.Mediation.Edges; len(m) != 1 || m[0].Node.App != nil || m[0].Node.SourceName != "矛盾调处" {
		t.Errorf("a mediation case: %+v", m)
	}
}
