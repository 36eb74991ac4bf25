package gateway_test

import (
	"fmt"
	"net/http"
	"regexp"
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
