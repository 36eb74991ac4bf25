package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"fengqiao"
	"fengqiao/gateway"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// childArgs, when set, makes the test binary run as the fengqiao command itself, so
// that a test can start and kill a real hub process.
const childArgs = "FENGQIAO_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childArgs); args != "" {
		os.Args = append([]string{"fengqiao"}, strings.Split(args, "\n")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// gatewayResponse is a GraphQL answer: its data and its errors.
type gatewayResponse struct {
	Data   json.RawMessage
	Errors []struct{ Message string }
}

// askJSON sends body (as JSON; none when nil) to url with the bearer token, if
// any, and decodes the JSON answer into out.
func askJSON(t testing.TB, method, url, token string, body, out any) {
	t.Helper()
	var content io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		content = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, content)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// postGraphQL sends a query, with its variables if any, to the GraphQL endpoint url.
func postGraphQL(t testing.TB, url, token, query string, vars map[string]any) gatewayResponse {
	t.Helper()
	body := map[string]any{"query": query}
	if vars != nil {
		body["variables"] = vars
	}
	var r gatewayResponse
	askJSON(t, http.MethodPost, url, token, body, &r)
	return r
}

// graphQL runs a query on the hub at base and decodes its data into out; any
// error fails the test.
func graphQL(t *testing.T, base, token, query string, out any) {
	t.Helper()
	graphQLVars(t, base, token, query, nil, out)
}

// graphQLVars is graphQL with variables.
func graphQLVars(t *testing.T, base, token, query string, vars map[string]any, out any) {
	t.Helper()
	r := postGraphQL(t, base+"/graphql", token, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("query %s: %v", query, r.Errors)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Fatal(err)
	}
}

type eventsPage struct {
	Events struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				ID      string
				Source  string
				Title   string
				OrgUnit struct {
					Code  string
					Name  string
					Level string
				}
			}
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   string
		}
	}
}

// allEventIDs walks every page of events a token may see, failing on repeats.
func allEventIDs(t *testing.T, base, token string) map[string]string {
	t.Helper()
	ids := map[string]string{} // id → org code
	after := ""
	for {
		var p eventsPage
		graphQL(t, base, token, fmt.Sprintf(`{ events(first: 100, after: %q) { totalCount edges { node { id orgUnit { code } } } pageInfo { hasNextPage endCursor } } }`, after), &p)
		for _, e := range p.Events.Edges {
			if _, dup := ids[e.Node.ID]; dup {
				t.Fatalf("event %s listed twice", e.Node.ID)
			}
			ids[e.Node.ID] = e.Node.OrgUnit.Code
		}
		if !p.Events.PageInfo.HasNextPage {
			if len(ids) != p.Events.TotalCount {
				t.Fatalf("walked %d events, totalCount says %d", len(ids), p.Events.TotalCount)
			}
			return ids
		}
		after = p.Events.PageInfo.EndCursor
	}
}

// startDemo runs `fengqiao demo` on a small world until it has synced, and
// returns its address and tokens.
func startDemo(t *testing.T) (string, map[string]string) {
	t.Helper()
	base, tokens, _ := startDemoHub(t)
	return base, tokens
}

// startDemoHub is startDemo, with the running hub.
func startDemoHub(t *testing.T) (string, map[string]string, *Hub) {
	t.Helper()
	return startDemoHubWithClock(t, nil)
}

// startDemoHubWithClock is startDemoHub with the orders on clock (when not nil),
// set before the hub serves.
func startDemoHubWithClock(t *testing.T, clock func() time.Time) (string, map[string]string, *Hub) {
	t.Helper()
	data := t.TempDir()
	started := make(chan *Hub, 1)
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Started: func(h *Hub) {
		if clock != nil {
			h.Orders.Now = clock
		}
		started <- h
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// No live alerts: the tests walk pages and compare totals.
	go func() {
		// The tests check figures, not speed (fengqiao bench measures that): under
		// the race detector on a busy machine an uncached year's cockpit can take
		// longer than the default 15 s.
		done <- m.Run(ctx, []string{"demo", "-addr", "127.0.0.1:0", "-data", data, "-scale", "0.004", "-alerts-every", "0", "-request-timeout", "3m"})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	var hub *Hub
	select {
	case hub = <-started:
	case err := <-done:
		t.Fatal(err)
	}
	for !hub.Runner.Ready() {
		time.Sleep(50 * time.Millisecond)
	}
	var tokens map[string]string
	b, err := os.ReadFile(filepath.Join(data, "demo-tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &tokens)
	return "http://" + hub.Addr(), tokens, hub
}

func TestDemoServesBothUpstreamsScopedByToken(t *testing.T) {
	t.Parallel()
	base, tokens := startDemo(t)

	// The issue's own query answers with events placed in the tree.
	var first eventsPage
	graphQL(t, base, tokens["county"], `{ events(first: 5) { totalCount edges { node { id source title orgUnit { name level } } } } }`, &first)
	if len(first.Events.Edges) != 5 || first.Events.Edges[0].Node.Title == "" || first.Events.Edges[0].Node.OrgUnit.Level == "" {
		t.Fatalf("first page = %+v", first)
	}
	for _, src := range []string{"HOTLINE_12345", "MEDIATION"} {
		var p eventsPage
		graphQL(t, base, tokens["county"], `{ events(filter: {sources: [`+src+`]}, first: 0) { totalCount } }`, &p)
		if p.Events.TotalCount == 0 {
			t.Errorf("no %s events in the demo", src)
		}
	}

	// Each narrower token sees strictly fewer events, all inside its subtree.
	seen := map[string]map[string]string{}
	for _, level := range []string{"county", "town", "village"} {
		seen[level] = allEventIDs(t, base, tokens[level])
	}
	var me struct {
		Me struct{ OrgUnit struct{ Code string } }
	}
	for _, pair := range [][2]string{{"county", "town"}, {"town", "village"}} {
		wide, narrow := seen[pair[0]], seen[pair[1]]
		if len(narrow) == 0 || len(narrow) >= len(wide) {
			t.Errorf("%s sees %d events, %s sees %d: want fewer but some", pair[1], len(narrow), pair[0], len(wide))
		}
		graphQL(t, base, tokens[pair[1]], `{ me { orgUnit { code } } }`, &me)
		for id, org := range narrow {
			if !strings.HasPrefix(org, me.Me.OrgUnit.Code) || wide[id] == "" {
				t.Errorf("%s token sees %s in %s, outside %s", pair[1], id, org, me.Me.OrgUnit.Code)
			}
		}
	}

	// A survey points at the work order or case it followed up, which lists it back.
	var surveys struct {
		Events struct {
			Edges []struct {
				Node struct {
					ID       string
					Outcome  string
					RefersTo *struct {
						Source     string
						ReferredBy []struct{ ID string }
					}
				}
			}
		}
	}
	graphQL(t, base, tokens["county"], `{ events(filter: {sources: [SURVEY]}, first: 5) { edges { node { id outcome refersTo { source referredBy { id } } } } } }`, &surveys)
	if len(surveys.Events.Edges) == 0 {
		t.Fatal("no surveys in the demo")
	}
	for _, e := range surveys.Events.Edges {
		n := e.Node
		if n.Outcome == "" || n.RefersTo == nil || !slices.ContainsFunc(n.RefersTo.ReferredBy, func(r struct{ ID string }) bool { return r.ID == n.ID }) {
			t.Errorf("survey %s: %+v", n.ID, n)
		}
	}

	var conns struct {
		Connectors []struct {
			Name         string
			Cursor       string
			RecordsIn    int
			Quarantined  int
			BreakerState string
			CaughtUp     bool
		}
	}
	graphQL(t, base, tokens["county"], `{ connectors { name cursor recordsIn quarantined breakerState caughtUp } }`, &conns)
	var names []string
	for _, c := range conns.Connectors {
		names = append(names, c.Name)
		pushed := c.Name == "alerts" // nothing pushed yet: no cursor, no records
		if c.Cursor == "" != pushed || c.RecordsIn == 0 != pushed || c.BreakerState != "CLOSED" || !c.CaughtUp {
			t.Errorf("connector %+v", c)
		}
	}
	if want := "hotline12345,mediation,police110,court,alerts,citymgmt,projects,surveys"; strings.Join(names, ",") != want {
		t.Errorf("connectors %v, want %s", names, want)
	}
}

// hubProcess is a fengqiao serve process started from the test binary.
type hubProcess struct {
	cmd  *exec.Cmd
	base string
}

func startHub(t *testing.T, config string) *hubProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"=serve\n-config\n"+config)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("hub did not start: %v", err)
	}
	addr := strings.TrimSuffix(strings.Fields(strings.SplitN(line, "http://", 2)[1])[0], "/graphql")
	go io.Copy(io.Discard, stdout)
	return &hubProcess{cmd: cmd, base: "http://" + addr}
}

type health struct {
	Status     string
	Connectors []struct {
		RecordsIn int
		CaughtUp  bool
	}
}

// health reads /healthz as a county operator: the record counts are not shown to
// callers without a token. The token is signed with the key in the hub's data
// directory, found through the config the process was started with.
func (h *hubProcess) health(t *testing.T) health {
	t.Helper()
	var config string
	for _, env := range h.cmd.Env {
		if args, ok := strings.CutPrefix(env, childArgs+"="); ok {
			config = args[strings.LastIndex(args, "\n")+1:]
		}
	}
	cfg, err := LoadConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(cfg.Data, "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	token, err := gateway.NewTokens(key, fengqiao.Wenling()).Issue(fengqiao.Principal{ID: "health", Role: fengqiao.RoleOperator, OrgCode: "331081"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, h.base+"/healthz", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out health
	json.NewDecoder(resp.Body).Decode(&out)
	return out
}

func TestKilledMidSyncTheHubResumesLosingAndDuplicatingNothing(t *testing.T) {
	t.Parallel()
	w := world.Generate(world.Config{Seed: 11, Scale: 0.01, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST), MalformedRate: 0.01})
	hotline, mediation := sim.NewHotline12345(w, "k"), sim.NewMediation(w, "app", "s")
	// Slow answers stretch the sync so that the kill lands in the middle of it.
	hotline.Set(sim.Faults{Latency: 20 * time.Millisecond})
	mediation.Set(sim.Faults{Latency: 20 * time.Millisecond})
	var urls []string
	for _, h := range []http.Handler{hotline.Handler(), mediation.Handler()} {
		r, err := sim.Start("127.0.0.1:0", h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		urls = append(urls, r.URL)
	}
	data := t.TempDir()
	config := filepath.Join(data, "fengqiao.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf(`addr: 127.0.0.1:0
data: %s
syncInterval: 1s
hotline12345: {baseURL: %q, apiKey: k, pageSize: 20}
mediation: {baseURL: %q, appId: app, secret: s, pageSize: 10}
`, filepath.Join(data, "hub"), urls[0], urls[1])), 0o600)

	// Start, wait until some records are in but the sync is far from done, kill -9.
	first := startHub(t, config)
	deadline := time.Now().Add(30 * time.Second)
	for {
		h := first.health(t)
		if len(h.Connectors) == 2 && h.Connectors[0].RecordsIn > 100 {
			if h.Status == "ready" {
				t.Fatal("the sync finished before the kill; slow the simulators down")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the hub did not start syncing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	first.cmd.Process.Kill()
	first.cmd.Wait()

	// Restart on the same data and let it catch up.
	second := startHub(t, config)
	for second.health(t).Status != "ready" {
		if time.Now().After(deadline.Add(60 * time.Second)) {
			t.Fatal("the restarted hub did not catch up")
		}
		time.Sleep(50 * time.Millisecond)
	}

	want, broken := map[string]bool{}, 0
	for _, o := range w.Hotline {
		if o.Malformed == "" {
			want[fengqiao.EventID(fengqiao.SourceHotline12345, o.GDBH)] = true
		} else {
			broken++
		}
	}
	for _, c := range w.Mediation {
		if c.Malformed == "" {
			want[fengqiao.EventID(fengqiao.SourceMediation, c.CaseNo)] = true
		} else {
			broken++
		}
	}
	key, err := os.ReadFile(filepath.Join(data, "hub", "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	token, _ := gateway.NewTokens(key, fengqiao.Wenling()).Issue(fengqiao.Principal{ID: "t", Role: fengqiao.RoleCommander, OrgCode: "331081"}, time.Hour)
	got := allEventIDs(t, second.base, token)
	for id := range want {
		if got[id] == "" {
			t.Errorf("lost %s", id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("indexed %d events, want %d", len(got), len(want))
	}

	// Every broken record is in quarantine, with its reason, once.
	var conns struct {
		Connectors []struct {
			Quarantined int
			Quarantine  []struct{ SourceID, Reason string }
		}
	}
	graphQL(t, second.base, token, `{ connectors { quarantined quarantine(first: 100) { sourceId reason } } }`, &conns)
	quarantined := 0
	for _, c := range conns.Connectors {
		quarantined += c.Quarantined
		for _, r := range c.Quarantine {
			if r.SourceID == "" || r.Reason == "" {
				t.Errorf("quarantined record without id or reason: %+v", r)
			}
		}
	}
	if broken == 0 || quarantined != broken {
		t.Errorf("quarantined %d records, the world broke %d", quarantined, broken)
	}
}

func TestDemoChainsSearchPortraitsAndAudit(t *testing.T) {
	t.Parallel()
	base, tokens := startDemo(t)
	county := tokens["county"]

	// The largest chains cross sources, with reasons for every link.
	var cs struct {
		Chains []struct {
			ID           string
			Size         int
			Sources      []string
			Complainants int
			Risk         struct {
				Level   string
				Reasons []string
			}
			Timeline []struct{ ID, ReportedAt string }
			Links    []struct {
				Reasons    []string
				Confidence float64
				Evidence   []struct {
					Rule              string
					Score, Confidence float64
					Matched           []string
				}
				From, To struct{ ID string }
			}
		}
	}
	graphQL(t, base, county, `{ chains(first: 5) { id size sources complainants risk { level reasons } timeline { id reportedAt } links { reasons confidence evidence { rule score matched confidence } from { id } to { id } } } }`, &cs)
	if len(cs.Chains) == 0 {
		t.Fatal("no chains in the demo")
	}
	top := cs.Chains[0]
	if top.Size < 3 || len(top.Timeline) != top.Size || len(top.Sources) < 2 || top.Complainants < 2 || len(top.Links) < top.Size-1 {
		t.Fatalf("largest chain: size %d, %d sources, %d complainants, %d links", top.Size, len(top.Sources), top.Complainants, len(top.Links))
	}
	// The largest chain is a collective matter, and the risk rules say so.
	if top.Risk.Level != "HIGH" || !strings.Contains(strings.Join(top.Risk.Reasons, "|"), "疑似群体性纠纷") {
		t.Fatalf("largest chain's risk: %+v", top.Risk)
	}
	var rules struct {
		RiskRules struct {
			Version   string
			Rules     []string
			LastError string
		}
	}
	graphQL(t, base, county, `{ riskRules { version rules lastError } }`, &rules)
	if rules.RiskRules.Version == "" || len(rules.RiskRules.Rules) < 7 || rules.RiskRules.LastError != "" {
		t.Fatalf("risk rules: %+v", rules)
	}
	for _, l := range top.Links {
		if len(l.Reasons) == 0 || l.Confidence <= 0 || l.From.ID == "" || l.To.ID == "" || len(l.Evidence) != len(l.Reasons) {
			t.Fatalf("link without evidence: %+v", l)
		}
		for _, ev := range l.Evidence {
			if ev.Rule == "" || ev.Score <= 0 || ev.Score > 1 || ev.Confidence <= 0 || ev.Confidence > 1 {
				t.Fatalf("link evidence: %+v", l)
			}
		}
	}
	for i := 1; i < len(top.Timeline); i++ {
		// Times, not strings: a mediation case's (epoch milliseconds) is written in
		// UTC, the others in CST.
		prev, _ := time.Parse(time.RFC3339, top.Timeline[i-1].ReportedAt)
		if at, err := time.Parse(time.RFC3339, top.Timeline[i].ReportedAt); err != nil || at.Before(prev) {
			t.Fatalf("timeline out of order: %s after %s (%v)", top.Timeline[i].ReportedAt, top.Timeline[i-1].ReportedAt, err)
		}
	}
	// Every event of the chain names it, by the same id.
	var one struct {
		Event struct{ Chain struct{ ID string } }
	}
	graphQL(t, base, county, fmt.Sprintf(`{ event(id: %q) { chain { id } } }`, top.Timeline[len(top.Timeline)-1].ID), &one)
	if one.Event.Chain.ID != top.ID {
		t.Fatalf("event's chain %q, want %q", one.Event.Chain.ID, top.ID)
	}

	// Ranked search marks the words found; facets add up to the total.
	var found struct {
		Events struct {
			TotalCount int
			Edges      []struct{ Highlights []string }
			Facets     struct {
				Sources, Towns []struct {
					Value, Label string
					Count        int
				}
			}
		}
	}
	graphQL(t, base, county, `{ events(filter: {text: "工资"}, orderBy: RELEVANCE, first: 5) { totalCount edges { highlights } facets { sources { value label count } towns { value label count } } } }`, &found)
	sum := 0
	for _, f := range found.Events.Facets.Sources {
		sum += f.Count
	}
	if found.Events.TotalCount == 0 || sum != found.Events.TotalCount || !strings.Contains(strings.Join(found.Events.Edges[0].Highlights, ""), "<mark>") {
		t.Fatalf("search: %+v", found.Events)
	}
	if l := found.Events.Facets.Towns[0].Label; !strings.HasSuffix(l, "镇") && !strings.HasSuffix(l, "街道") && l != "东部新区" {
		t.Fatalf("town facet labelled %q", l)
	}

	// A look at a person is in the audit log, which only an auditor may read.
	var people struct {
		Events struct {
			Edges []struct {
				Node struct {
					Parties []struct{ Person *struct{ ID string } }
				}
			}
		}
	}
	graphQL(t, base, county, `{ events(filter: {sources: [MEDIATION]}, first: 1) { edges { node { parties { person { id } } } } } }`, &people)
	pid := people.Events.Edges[0].Node.Parties[0].Person.ID
	var portrait struct {
		Person struct {
			Name   string
			Events struct{ TotalCount int }
			Chains []struct{ ID string }
			Risk   struct{ Level string }
		}
	}
	graphQL(t, base, county, fmt.Sprintf(`{ person(id: %q) { name events { totalCount } chains { id } risk { level } } }`, pid), &portrait)
	if portrait.Person.Name == "" || portrait.Person.Events.TotalCount == 0 || portrait.Person.Risk.Level == "" {
		t.Fatalf("portrait %+v", portrait)
	}
	var log struct {
		AuditLog struct {
			Edges []struct {
				Node struct{ PrincipalID, Action, Subject, Remote string }
			}
		}
	}
	graphQL(t, base, tokens["auditor"], fmt.Sprintf(`{ auditLog(filter: {subject: %q}) { edges { node { principalId action subject remote } } } }`, pid), &log)
	if edges := log.AuditLog.Edges; len(edges) == 0 || edges[0].Node.Action != "查看人员" || edges[0].Node.PrincipalID != "demo-county" || edges[0].Node.Remote == "" {
		t.Fatalf("audit log %+v", log)
	}
	if errs := graphQLErrors(t, base, county, `{ auditLog { edges { node { subject } } } }`); len(errs) == 0 {
		t.Fatal("a commander read the audit log")
	}
}

// graphQLErrors runs a query on the hub at base and returns its errors' messages.
func graphQLErrors(t *testing.T, base, token, query string) []string {
	t.Helper()
	var out []string
	for _, e := range postGraphQL(t, base+"/graphql", token, query, nil).Errors {
		out = append(out, e.Message)
	}
	return out
}

func TestDemoCockpitFigures(t *testing.T) {
	t.Parallel()
	base, tokens := startDemo(t)
	to := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	from := to.AddDate(-1, 0, 0)
	q := fmt.Sprintf(`{ cockpit(from: %q, to: %q, granularity: MONTH) {
		total onSiteRate mediationRate firstResolvedRate satisfactionRate overdue
		facets { sources { value count } }
		series { start count }
		ranking { orgUnit { name level } total settledRate }
		alerts { type count }
		topChains(first: 3) { size risk { level } }
		topRisks(first: 5) { id risk { level reasons } } } }`, from.Format(time.RFC3339), to.Format(time.RFC3339))
	var c struct {
		Cockpit struct {
			Total                                                          int
			OnSiteRate, MediationRate, FirstResolvedRate, SatisfactionRate *float64
			Overdue                                                        int
			Facets                                                         struct {
				Sources []struct {
					Value string
					Count int
				}
			}
			Series  []struct{ Count int }
			Ranking []struct {
				OrgUnit     struct{ Name, Level string }
				Total       int
				SettledRate *float64
			}
			TopChains []struct{ Size int }
			TopRisks  []struct {
				Risk struct {
					Level   string
					Reasons []string
				}
			}
		}
	}
	graphQL(t, base, tokens["county"], q, &c)
	f := c.Cockpit
	bySource, inSeries, inRanking := 0, 0, 0
	for _, s := range f.Facets.Sources {
		bySource += s.Count
	}
	for _, s := range f.Series {
		inSeries += s.Count
	}
	for _, r := range f.Ranking {
		inRanking += r.Total
	}
	if f.Total == 0 || bySource != f.Total || inSeries != f.Total || inRanking != f.Total || len(f.Ranking) != 17 || f.Ranking[0].OrgUnit.Level != "TOWN" {
		t.Fatalf("totals disagree: total %d, by source %d, series %d, ranking %d over %d towns", f.Total, bySource, inSeries, inRanking, len(f.Ranking))
	}
	for name, r := range map[string]*float64{"就地化解率": f.OnSiteRate, "调处率": f.MediationRate, "初次反映问题化解率": f.FirstResolvedRate, "满意率": f.SatisfactionRate} {
		if r == nil || *r <= 0 || *r > 1 {
			t.Errorf("%s = %v", name, r)
		}
	}
	if len(f.TopChains) == 0 || len(f.TopRisks) == 0 || f.TopRisks[0].Risk.Level == "LOW" || len(f.TopRisks[0].Risk.Reasons) == 0 {
		t.Errorf("top chains %v, top risks %v", f.TopChains, f.TopRisks)
	}
	// Trend warnings answer for the county's towns, each with the figures behind it.
	var trends struct {
		Trends []struct {
			OrgUnit  struct{ Level string }
			Current  int
			History  []int
			Baseline float64
			Ratio    float64
		}
	}
	graphQL(t, base, tokens["county"], `{ trends { orgUnit { level } category current history baseline ratio } }`, &trends)
	for _, w := range trends.Trends {
		if w.OrgUnit.Level != "TOWN" || len(w.History) != 8 || w.Current < 5 || w.Ratio < 2 {
			t.Errorf("trend warning %+v", w)
		}
	}

	// A town sees its own figures, and may not ask for the county's.
	var townFigures struct{ Cockpit struct{ Total int } }
	graphQL(t, base, tokens["town"], strings.Replace(q, "cockpit(", "cockpit(orgCode: \"331081100\", ", 1), &townFigures)
	if townFigures.Cockpit.Total == 0 || townFigures.Cockpit.Total >= f.Total {
		t.Errorf("town total %d of the county's %d", townFigures.Cockpit.Total, f.Total)
	}
	if errs := graphQLErrors(t, base, tokens["town"], strings.Replace(q, "cockpit(", "cockpit(orgCode: \"331081\", ", 1)); len(errs) == 0 {
		t.Error("a town read the county's cockpit")
	}
}

// serveCounty runs a hub in this process over a small simulated county of the
// seed, serving and synced, for tests that need the simulators at hand.
func serveCounty(t *testing.T, seed int64) (*Hub, *sim.County) {
	t.Helper()
	county, err := sim.StartCounty(world.Generate(world.Config{Seed: seed, Scale: 0.002, End: time.Now()}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(county.Close)
	hub, err := OpenHub(countyConfig(county, "127.0.0.1:0", t.TempDir()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; hub.Close() })
	for !hub.Runner.Ready() {
		time.Sleep(50 * time.Millisecond)
	}
	return hub, county
}

func TestOneUpstreamDownTheQueryStillAnswers(t *testing.T) {
	t.Parallel()
	hub, county := serveCounty(t, 3)
	base := "http://" + hub.Addr()
	token, _ := hub.Tokens.Issue(fengqiao.Principal{ID: "t", Role: fengqiao.RoleCommander, OrgCode: "331081"}, time.Hour)

	county.Switch("hotline").Set(sim.Faults{Down: true})
	body, _ := json.Marshal(map[string]string{"query": `{
		hotline: events(filter: {sources: [HOTLINE_12345]}, first: 2) { edges { node { id live { stale upstream event { status } } } } }
		court: events(filter: {sources: [COURT]}, first: 1) { edges { node { id live { stale } } } } }`})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Hotline, Court struct {
				Edges []struct {
					Node struct {
						ID   string
						Live struct {
							Stale    bool
							Upstream string
							Event    struct{ Status string }
						}
					}
				}
			}
		}
		Errors []struct {
			Message    string
			Path       []any
			Extensions map[string]any
		}
	}
	json.NewDecoder(resp.Body).Decode(&r)
	if len(r.Data.Hotline.Edges) != 2 || len(r.Data.Court.Edges) != 1 {
		t.Fatalf("data: %+v", r.Data)
	}
	for _, e := range r.Data.Hotline.Edges {
		if !e.Node.Live.Stale || e.Node.Live.Event.Status == "" || e.Node.Live.Upstream != "12345政务服务热线" {
			t.Errorf("hotline live field: %+v", e.Node.Live)
		}
	}
	if r.Data.Court.Edges[0].Node.Live.Stale {
		t.Error("the court is up, but its field is stale")
	}
	if len(r.Errors) != 2 {
		t.Fatalf("errors: %+v", r.Errors)
	}
	for _, e := range r.Errors {
		if e.Extensions["upstream"] != "12345政务服务热线" || e.Extensions["code"] != "unavailable" || !strings.Contains(e.Message, "12345政务服务热线") || len(e.Path) == 0 {
			t.Errorf("error entry: %+v", e)
		}
	}
}

func TestLiveAlertsAreStreamedToSubscribersInTheirSubtree(t *testing.T) {
	t.Parallel()
	hub, county := serveCounty(t, 4)
	ctx := context.Background()
	devices := county.Alerts.Devices()
	mine, other := devices[0], devices[1]
	for _, d := range devices[1:] {
		if d.GridCode[:12] != mine.GridCode[:12] {
			other = d
			break
		}
	}
	village := mine.GridCode[:12]
	subscribe := func(org, role string) (*websocket.Conn, error) {
		token, _ := hub.Tokens.Issue(fengqiao.Principal{ID: "s", Role: fengqiao.Role(role), OrgCode: org}, time.Hour)
		conn, _, err := websocket.Dial(ctx, "ws://"+hub.Addr()+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			return nil, err
		}
		wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}})
		var ack struct{ Type string }
		if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
			return nil, fmt.Errorf("init: %v %+v", err, ack)
		}
		wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]string{"query": "subscription { alerts { id orgUnit { code } occurrences } }"}})
		return conn, nil
	}
	villageConn, err := subscribe(village, "GRID_STAFF")
	if err != nil {
		t.Fatal(err)
	}
	defer villageConn.CloseNow()
	time.Sleep(200 * time.Millisecond) // let the subscription register

	pusher := &sim.Pusher{URL: "http://" + hub.Addr() + "/webhooks/alerts", Secret: county.Secret}
	pusher.Push(ctx, county.Alerts.Alert(other, world.AlertTypes[other.Kind][0], "ALARM", time.Now()))
	pusher.Push(ctx, county.Alerts.Alert(mine, world.AlertTypes[mine.Kind][0], "ALARM", time.Now()))
	readCtx, done := context.WithTimeout(ctx, 10*time.Second)
	defer done()
	var msg struct {
		Type    string
		Payload struct {
			Data struct {
				Alerts struct {
					ID      string
					OrgUnit struct{ Code string }
				}
			}
		}
	}
	if err := wsjson.Read(readCtx, villageConn, &msg); err != nil {
		t.Fatalf("no alert streamed: %v", err)
	}
	if msg.Type != "next" || !strings.HasPrefix(msg.Payload.Data.Alerts.OrgUnit.Code, village) || !strings.Contains(msg.Payload.Data.Alerts.ID, mine.DeviceID) {
		t.Fatalf("streamed %+v, want the alert of %s in %s only", msg, mine.DeviceID, village)
	}

	// A connection without a valid token is refused.
	conn, _, err := websocket.Dial(ctx, "ws://"+hub.Addr()+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer forged"}})
	var refused struct{ Type string }
	if err := wsjson.Read(readCtx, conn, &refused); err == nil && refused.Type == "connection_ack" {
		t.Fatal("a forged token was accepted")
	}
}
