package gateway_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"fengqiao"
)

// routeLabel finds the route labels of the request-latency histogram.
var routeLabel = regexp.MustCompile(`fengqiao_http_request_duration_seconds_count\{route="([^"]*)"`)

var probe = regexp.MustCompile(`probe-\d+`)

func TestMetricsLabelRequestsByRouteNotByPath(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// An attacker asks for many paths nobody routes, and for the assets under
	// made-up names: each would be a series of its own if labelled by path.
	for i := range 200 {
		for _, path := range []string{fmt.Sprintf("/probe-%d-x", i), fmt.Sprintf("/assets/probe-%d-x.js", i), fmt.Sprintf("/graphql/probe-%d-x", i)} {
			status, _ := b.get(t, path, "")
			if status != http.StatusNotFound {
				t.Fatalf("GET %s = %d, want 404", path, status)
			}
		}
	}
	b.get(t, "/healthz", "")
	status, body := b.get(t, "/metrics", b.token(t, fengqiao.RoleOperator, county))
	if status != http.StatusOK {
		t.Fatalf("metrics = %d %.200s", status, body)
	}
	routes := map[string]bool{}
	for _, m := range routeLabel.FindAllStringSubmatch(body, -1) {
		routes[m[1]] = true
	}
	if !routes["GET /healthz"] || !routes["other"] {
		t.Errorf("route labels %v: want the pattern GET /healthz and other", routes)
	}
	for route := range routes {
		if probe.MatchString(route) {
			t.Fatalf("a route label carries the requested path: %q", route)
		}
	}
	// The routes are the server's patterns (one per webhook too), whatever was asked.
	if len(routes) > 12 {
		t.Errorf("%d route labels", len(routes))
	}
}

// operationSeries reads the count of fengqiao_graphql_operation_duration_seconds
// by operation and outcome.
var operationSeries = regexp.MustCompile(`fengqiao_graphql_operation_duration_seconds_count\{operation="([^"]*)",outcome="([^"]*)"\} (\d+)`)

func operationCounts(t *testing.T, b *testBundle) map[string]int {
	t.Helper()
	_, body := b.get(t, "/metrics", b.token(t, fengqiao.RoleOperator, county))
	out := map[string]int{}
	for _, m := range operationSeries.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[3])
		out[m[1]+"/"+m[2]] = n
	}
	return out
}

// GraphQL operations are counted by name and outcome — refusals too — and the
// names a client can make up do not grow the label set without bound.
func TestGraphQLOperationsAreCountedByBoundedNameAndOutcome(t *testing.T) {
	b := setup(t)
	tok := b.token(t, fengqiao.RoleAnalyst, county)
	before := operationCounts(t, b)
	b.query(t, tok, `query MetricsOk { me { name } }`, nil)
	b.query(t, tok, `query MetricsError { auditLog { edges { cursor } } }`, nil)
	b.query(t, tok, `query MetricsRefused { me { nme } }`, nil)
	b.query(t, "", `query MetricsOk { me { name } }`, nil)
	b.query(t, tok, `{ me { name } }`, nil)
	after := operationCounts(t, b)
	for key, want := range map[string]int{"MetricsOk/ok": 1, "MetricsError/error": 1, "anonymous/refused": 2, "anonymous/ok": 1} {
		if got := after[key] - before[key]; got != want {
			t.Errorf("%s grew by %d, want %d (%v)", key, got, want, after)
		}
	}
	// Made-up names, valid or refused, add at most the registry's bound.
	for i := range 300 {
		b.query(t, tok, fmt.Sprintf(`query Probe%d { me { name } }`, i), nil)
		b.post(t, tok, fmt.Sprintf(`{"query": "query Refused%d { me { nme } }", "operationName": "Refused%d"}`, i, i))
	}
	names := map[string]bool{}
	for key := range operationCounts(t, b) {
		names[strings.Split(key, "/")[0]] = true
		if strings.HasPrefix(key, "Refused") {
			t.Errorf("a refused name got a series: %s", key)
		}
	}
	if len(names) > 202 {
		t.Errorf("%d operation labels, want at most 200 names, anonymous and other", len(names))
	}
}

func (b *testBundle) post(t *testing.T, token, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
