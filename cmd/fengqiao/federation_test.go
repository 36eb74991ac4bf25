package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fengqiao"
)

// federationTool is tools/federation with its node_modules (make test installs
// them). CI must run the test; elsewhere it is skipped without Node.js or the
// modules.
func federationTool(t *testing.T) (node, dir string) {
	t.Helper()
	dir, _ = filepath.Abs(filepath.Join("..", "..", "tools", "federation"))
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@graphql-hive", "gateway-runtime"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Node.js or tools/federation/node_modules missing (make test installs them): %v", err)
		}
		t.Skipf("no Node.js or tools/federation/node_modules here (make test installs them): %v", err)
	}
	return node, dir
}

// cityGateway starts tools/federation/run.mjs against the hub at base: the hub's
// SDL (read with token) composed with the city subgraph, served by Hive Gateway.
// It returns the gateway's /graphql URL.
func cityGateway(t *testing.T, base, token string) string {
	t.Helper()
	node, dir := federationTool(t)
	cmd := exec.Command(node, "run.mjs", "--hub", base+"/graphql", "--token", token, "--until-stdin-closes",
		"--supergraph", filepath.Join(t.TempDir(), "supergraph.graphql"))
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	// A gateway that never says it listens is stopped, so that the test fails with
	// its standard error instead of hanging.
	hung := time.AfterFunc(3*time.Minute, func() { cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	hung.Stop()
	if err != nil {
		cmd.Wait()
		t.Fatalf("the gateway did not start: %v\n%s", err, stderr.String())
	}
	var started struct{ Gateway string }
	if err := json.Unmarshal([]byte(line), &started); err != nil || started.Gateway == "" {
		t.Fatalf("the gateway said %q: %v", line, err)
	}
	return started.Gateway
}

// gatewayResponse is a GraphQL response with its errors' messages.

// A city's graph over the hub, with published tools: the hub's subgraph schema
// composed with a city subgraph that extends OrgUnit by code, served by Hive
// Gateway. Queries that need both subgraphs answer, in both directions (the hub's
// units with the city's score; the city's ranking with the hub's units), and the
// caller's token reaches the hub: a town sees its own town and not the others.
func TestACityGatewayComposesTheHubWithACitySubgraph(t *testing.T) {
	t.Parallel()
	federationTool(t) // skip before starting a hub
	base, tokens, hub := startDemoHub(t)
	gw := cityGateway(t, base, tokens["county"])
	town := tokens["town"] // 泽国镇's analyst
	daxi, err := hub.Tokens.Issue(fengqiao.Principal{ID: "daxi", Name: "大溪镇分析员", Role: fengqiao.RoleAnalyst, OrgCode: "331081101"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	// The hub's unit, with the city's score from the city subgraph.
	r := postGraphQL(t, gw, town, `{ orgUnit { code name cityScore children { code } } }`, nil)
	var own struct {
		OrgUnit struct {
			Code, Name string
			CityScore  *float64
			Children   []struct{ Code string }
		}
	}
	if err := json.Unmarshal(r.Data, &own); err != nil || len(r.Errors) > 0 {
		t.Fatalf("orgUnit through the gateway: %s %v", r.Data, r.Errors)
	}
	if u := own.OrgUnit; u.Code != "331081100" || u.Name != "泽国镇" || u.CityScore == nil || *u.CityScore != 92.5 || len(u.Children) == 0 {
		t.Errorf("泽国镇 through the gateway: %+v", u)
	}

	// The city's ranking, with each town as the hub shows it to the caller.
	const ranking = `{ townRanking { rank score orgUnit { code name eventCount } } }`
	type rank struct {
		Rank    int
		Score   float64
		OrgUnit *struct {
			Code, Name string
			EventCount int
		}
	}
	shown := func(token string) (map[string]rank, gatewayResponse) {
		r := postGraphQL(t, gw, token, ranking, nil)
		var out struct{ TownRanking []rank }
		if err := json.Unmarshal(r.Data, &out); err != nil || len(out.TownRanking) != 3 {
			t.Fatalf("townRanking through the gateway: %s %v", r.Data, r.Errors)
		}
		named := map[string]rank{}
		for _, x := range out.TownRanking {
			if x.OrgUnit != nil {
				named[x.OrgUnit.Name] = x
			}
		}
		return named, r
	}
	direct := func(token, code string) int {
		var d struct{ OrgUnit struct{ EventCount int } }
		graphQL(t, base, token, `{ orgUnit(code: "`+code+`") { eventCount } }`, &d)
		return d.OrgUnit.EventCount
	}

	all, r := shown(tokens["county"])
	if len(all) != 3 || len(r.Errors) > 0 || all["泽国镇"].Rank != 1 || all["大溪镇"].Score != 88 {
		t.Errorf("the county's ranking: %s %v", r.Data, r.Errors)
	}
	if got, want := all["大溪镇"].OrgUnit, direct(tokens["county"], "331081101"); got == nil || got.EventCount != want || want == 0 {
		t.Errorf("大溪镇's events through the gateway %+v, from the hub %d", got, want)
	}
	for token, own := range map[string]string{town: "泽国镇", daxi: "大溪镇"} {
		named, r := shown(token)
		if len(named) != 1 || named[own].OrgUnit == nil || len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "无权查看") {
			t.Errorf("%s's ranking: %s %v", own, r.Data, r.Errors)
			continue
		}
		if got, want := named[own].OrgUnit.EventCount, direct(token, named[own].OrgUnit.Code); got != want {
			t.Errorf("%s's events through the gateway %d, from the hub %d", own, got, want)
		}
	}

	// Without a token the hub answers nothing through the gateway either.
	r = postGraphQL(t, gw, "", `{ orgUnit(code: "331081100") { name } }`, nil)
	if len(r.Errors) == 0 || strings.Contains(string(r.Data), "泽国镇") {
		t.Errorf("no token: %s %v", r.Data, r.Errors)
	}
}
