package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"fengqiao"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// TestTheLoopThroughTheHubAndThe12345Platform is the closed loop as a county
// runs it: the county commander assigns a hotline matter to its town, the
// 12345 platform receives the dispatch, the town passes it to its village, the
// village feeds back, the town reviews and closes its order; the platform
// finishes the work order, which comes back through the sync as feedback; the
// county closes. Every step goes through GraphQL with each unit's own token, is
// audited, and shows in the figures.
func TestTheLoopThroughTheHubAndThe12345Platform(t *testing.T) {
	t.Parallel()
	w := world.Generate(world.Config{Seed: 5, Scale: 0.004, End: time.Now().In(world.CST)})
	hotline := sim.NewHotline12345(w, "k")
	up, err := sim.Start("127.0.0.1:0", hotline.Handler())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	data := t.TempDir()
	config := filepath.Join(data, "fengqiao.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf("addr: 127.0.0.1:0\ndata: %s\nsyncInterval: 200ms\nhotline12345: {baseURL: %q, apiKey: k, pageSize: 200}\n",
		filepath.Join(data, "hub"), up.URL)), 0o600)
	started := make(chan *Hub, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		m := &Main{Stdout: io.Discard, Stderr: io.Discard, Started: func(h *Hub) { started <- h }}
		done <- m.Run(ctx, []string{"serve", "-config", config})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	hub := <-started
	for !hub.Runner.Ready() {
		time.Sleep(50 * time.Millisecond)
	}
	base := "http://" + hub.Addr()

	// An open hotline work order placed in a village.
	var page struct {
		Events struct {
			Edges []struct {
				Node struct {
					ID, SourceID string
					OrgUnit      struct {
						Level string
						Path  []struct{ Code, Level string }
					}
				}
			}
		}
	}
	county := token(t, hub, fengqiao.RoleCommander, "331081")
	graphQL(t, base, county, `{ events(filter: {sources: [HOTLINE_12345], statuses: [RECEIVED, IN_PROGRESS]}, first: 50) { edges { node { id sourceId orgUnit { level path { code level } } } } } }`, &page)
	var eventID, gdbh, town, village string
	for _, e := range page.Events.Edges {
		for _, u := range e.Node.OrgUnit.Path {
			switch u.Level {
			case "TOWN":
				town = u.Code
			case "VILLAGE":
				village = u.Code
			}
		}
		if village != "" {
			eventID, gdbh = e.Node.ID, e.Node.SourceID
			break
		}
	}
	if eventID == "" {
		t.Fatalf("no open hotline work order in a village among %d", len(page.Events.Edges))
	}
	townCmd, villageStaff := token(t, hub, fengqiao.RoleCommander, town), token(t, hub, fengqiao.RoleGridStaff, village)

	type order struct {
		ID, Code, State string
		Steps           []struct{ Action, Note string }
		Deliveries      []struct{ Connector, State, Ref string }
	}
	const fields = `id code state steps { action note } deliveries { connector state ref }`
	mutate := func(tok, mutation, input string) order {
		t.Helper()
		var out map[string]order
		graphQL(t, base, tok, fmt.Sprintf(`mutation { %s(input: %s) { %s } }`, mutation, input, fields), &out)
		return out[mutation]
	}
	// The town hears of the order the moment it is issued; another town does not.
	townNotices, otherNotices := subscribeOrders(t, base, townCmd), subscribeOrders(t, base, token(t, hub, fengqiao.RoleCommander, otherTown(town)))
	waitFor(t, "both subscriptions", func() bool { return hub.Orders.Subscribers() == 2 })
	first := mutate(county, "issueOrder", fmt.Sprintf(`{requestId: "c1", subjectKind: EVENT, subjectId: %q, kind: ASSIGN, addresseeOrg: %q, workingDays: 5, priority: URGENT, listed: COUNTY, instructions: "请五日内办结并反馈"}`, eventID, town))
	if first.State != "OPEN" || !strings.HasPrefix(first.Code, "JF") {
		t.Fatalf("issued %+v", first)
	}

	// (Its delivery's notice may come first: the outbox works beside the request.)
	for told := false; !told; {
		select {
		case n := <-townNotices:
			told = n.Action == "ISSUE" && n.Order.ID == first.ID && n.Order.Addressee.Code == town
		case <-time.After(time.Minute):
			t.Fatal("the town was not told of the order")
		}
	}

	// The platform receives the dispatch once, with the matter's code.
	waitFor(t, "the dispatch to reach 12345", func() bool {
		var out struct{ Order order }
		graphQL(t, base, county, fmt.Sprintf(`{ order(id: %q) { %s } }`, first.ID, fields), &out)
		return len(out.Order.Deliveries) == 1 && out.Order.Deliveries[0].State == "DELIVERED"
	})
	if d := hotline.Dispatched(gdbh); len(d) != 1 {
		t.Fatalf("12345 holds dispatches %v for %s, want one", d, gdbh)
	}
	var ev struct{ Event struct{ MatterCode string } }
	graphQL(t, base, villageStaff, fmt.Sprintf(`{ event(id: %q) { matterCode } }`, eventID), &ev)
	if ev.Event.MatterCode != first.Code {
		t.Errorf("the event shows the code %q to its village, want %q", ev.Event.MatterCode, first.Code)
	}

	child := mutate(townCmd, "passDownOrder", fmt.Sprintf(`{requestId: "t1", orderId: %q, addresseeOrg: %q, workingDays: 3, instructions: "请村里上门核实"}`, first.ID, village))
	if child.Code != first.Code {
		t.Fatalf("the child order %+v is not on the matter %s", child, first.Code)
	}
	if errs := graphQLErrors(t, base, villageStaff, fmt.Sprintf(`mutation { closeOrder(input: {requestId: "v0", orderId: %q}) { id } }`, child.ID)); len(errs) == 0 {
		t.Error("a village grid worker closed the town's order")
	}
	mutate(villageStaff, "feedbackOrder", fmt.Sprintf(`{requestId: "v1", orderId: %q, note: "已上门核实，已整改", links: ["https://files.example/1.jpg"]}`, child.ID))
	mutate(townCmd, "acceptOrder", fmt.Sprintf(`{requestId: "t2", orderId: %q}`, child.ID))
	if closed := mutate(townCmd, "closeOrder", fmt.Sprintf(`{requestId: "t3", orderId: %q}`, child.ID)); closed.State != "CLOSED" {
		t.Fatalf("the town's order after closing: %+v", closed)
	}

	// The platform finishes the work order; its sync is the town's feedback.
	if err := hotline.Complete(gdbh, "已处理，群众满意"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the platform's completion to come back", func() bool {
		var out struct{ Order order }
		graphQL(t, base, county, fmt.Sprintf(`{ order(id: %q) { %s } }`, first.ID, fields), &out)
		return out.Order.State == "FED_BACK"
	})
	mutate(county, "acceptOrder", fmt.Sprintf(`{requestId: "c2", orderId: %q}`, first.ID))
	final := mutate(county, "closeOrder", fmt.Sprintf(`{requestId: "c3", orderId: %q}`, first.ID))
	var actions []string
	for _, s := range final.Steps {
		actions = append(actions, s.Action)
	}
	if final.State != "CLOSED" || !slices.Contains(actions, "DELIVERED") || !slices.Contains(actions, "PASS_DOWN") || !slices.Contains(actions, "FEEDBACK") {
		t.Errorf("the county's order: %s, timeline %v", final.State, actions)
	}

	select {
	case n := <-otherNotices:
		t.Errorf("another town was told of %+v", n)
	default:
	}

	// /healthz shows the outbox to county operators: nothing waiting.
	var outbox struct {
		Outbox *struct {
			Depth   int
			Failing []struct{ OrderID, Reason string }
		}
	}
	getJSON(t, base+"/healthz", token(t, hub, fengqiao.RoleOperator, "331081"), &outbox)
	if outbox.Outbox == nil || outbox.Outbox.Depth != 0 || len(outbox.Outbox.Failing) != 0 {
		t.Errorf("/healthz outbox %+v", outbox.Outbox)
	}

	// Audited, and in the figures of the county, the town and the village.
	entries, _, err := hub.Audit.Entries(context.Background(), fengqiao.AuditFilter{}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]int{}
	for _, e := range entries {
		if e.Subject == first.ID || e.Subject == child.ID {
			audited[e.Action]++
		}
	}
	if audited["工单交办"] != 1 || audited["工单转办"] != 1 || audited["工单反馈"] != 1 || audited["工单审核通过"] != 2 || audited["工单销号"] != 2 {
		t.Errorf("audited %v", audited)
	}
	from, to := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	var fig struct {
		OrderFigures struct{ Issued, Closed, OnTime, Listed int }
	}
	graphQL(t, base, county, fmt.Sprintf(`{ orderFigures(from: %q, to: %q) { issued closed onTime listed } }`, from, to), &fig)
	if f := fig.OrderFigures; f.Issued != 2 || f.Closed != 2 || f.OnTime != 2 || f.Listed != 2 {
		t.Errorf("county figures %+v", f)
	}
	graphQL(t, base, villageStaff, fmt.Sprintf(`{ orderFigures(from: %q, to: %q) { issued closed onTime listed } }`, from, to), &fig)
	if f := fig.OrderFigures; f.Issued != 1 || f.Closed != 1 {
		t.Errorf("village figures %+v", f)
	}
}

// token issues a token for a principal of the hub.
func token(t *testing.T, hub *Hub, role fengqiao.Role, org string) string {
	t.Helper()
	tok, err := hub.Tokens.Issue(fengqiao.Principal{ID: strings.ToLower(string(role)) + "@" + org, Name: "测试", Role: role, OrgCode: org}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getJSON reads a JSON answer with a bearer token.
func getJSON(t *testing.T, url, tok string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// orderNotice is a message of the orders subscription.
type orderNotice struct {
	Action string
	Order  struct {
		ID        string
		Addressee struct{ Code string }
	}
}

// subscribeOrders subscribes to order notices over graphql-ws with a token.
func subscribeOrders(t *testing.T, base, tok string) <-chan orderNotice {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + tok}})
	var ack struct{ Type string }
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("init: %v %+v", err, ack)
	}
	wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]string{"query": "subscription { orders { action order { id addressee { code } } } }"}})
	out := make(chan orderNotice, 16)
	go func() {
		for {
			var msg struct {
				Type    string
				Payload struct{ Data struct{ Orders orderNotice } }
			}
			if err := wsjson.Read(ctx, conn, &msg); err != nil {
				return
			}
			if msg.Type == "next" {
				out <- msg.Payload.Data.Orders
			}
		}
	}()
	return out
}

// otherTown is a town other than code.
func otherTown(code string) string {
	for _, u := range fengqiao.Wenling().Units(fengqiao.LevelTown) {
		if u.Code != code {
			return u.Code
		}
	}
	return ""
}
