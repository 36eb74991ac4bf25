package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/gateway"
)

// documentedFamilies are the metric names of docs/metrics.md's tables, with
// whether each is labelled by connector (or upstream).
func documentedFamilies(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(fengqiao_[a-z_]+)` \\| [a-z]+ \\| ([^|]*)\\|")
	out := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		out[m[1]] = ""
		switch {
		case strings.Contains(m[2], "`connector`"):
			out[m[1]] = "connector"
		case strings.Contains(m[2], "`upstream`"):
			out[m[1]] = "upstream"
		}
	}
	if len(out) < 15 {
		t.Fatalf("docs/metrics.md lists %d metrics", len(out))
	}
	return out
}

// A fresh hub's first scrape has every family docs/metrics.md lists, and every
// series of each connector and upstream at zero: the upstreams here never answer,
// so nothing has been read, retried or failed yet.
func TestAFreshHubsFirstScrapeHasEveryDocumentedFamilyAtZero(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); silent.Close() })
	data := t.TempDir()
	config := filepath.Join(data, "fengqiao.yaml")
	u := silent.URL
	os.WriteFile(config, []byte(fmt.Sprintf(`addr: 127.0.0.1:0
data: %s
hotline12345: {baseURL: %q, apiKey: k}
mediation: {baseURL: %q, appId: app, secret: s}
police110: {baseURL: %q, clientId: c, clientSecret: s}
court: {baseURL: %q, user: u, password: p}
alerts: {baseURL: %q, apiKey: k, webhookSecret: s}
`, filepath.Join(data, "hub"), u, u, u, u, u)), 0o600)
	hub := startHub(t, config)
	connectorNames := []string{"hotline12345", "mediation", "police110", "court", "alerts"}

	key, err := os.ReadFile(filepath.Join(data, "hub", "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	token, err := gateway.NewTokens(key, fengqiao.Wenling()).Issue(fengqiao.Principal{ID: "m", Role: fengqiao.RoleOperator, OrgCode: "331081"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, hub.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %.300s", resp.StatusCode, raw)
	}
	scrape := string(raw)
	for name, label := range documentedFamilies(t) {
		if !strings.Contains(scrape, "# TYPE "+name+" ") {
			t.Errorf("%s is not in the first scrape", name)
			continue
		}
		if label == "" {
			continue
		}
		for _, c := range connectorNames {
			series := regexp.MustCompile(`(?m)^`+name+`(?:_count)?\{[^}]*`+label+`="`+c+`"[^}]*\} (\S+)$`).FindAllStringSubmatch(scrape, -1)
			if len(series) == 0 {
				t.Errorf("%s has no series for %s", name, c)
			}
			for _, s := range series {
				// The alerts connector syncs its own inbox, empty, without its
				// upstream: its first (empty) batch may be done already.
				done := name == "fengqiao_connector_caught_up" || c == "alerts" && name == "fengqiao_connector_sync_duration_seconds"
				if s[1] != "0" && !done {
					t.Errorf("%s for %s = %s on the first scrape, want 0: %s", name, c, s[1], s[0])
				}
			}
		}
	}
	for _, want := range []string{`fengqiao_graphql_operation_duration_seconds_count{operation="anonymous",outcome="refused"} 0`,
		`fengqiao_graphql_subscriptions{feed="orders"} 0`, `fengqiao_orders_outbox_depth 0`, `fengqiao_cache_hits_total{cache="cockpit_figures"} 0`} {
		if !strings.Contains(scrape, want) {
			t.Errorf("no %s", want)
		}
	}
}
