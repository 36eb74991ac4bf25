package gateway_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"fengqiao"
	"fengqiao/gateway"
)

// get fetches path with a bearer token ("" for none).
func (b *testBundle) get(t *testing.T, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// signed returns a token with the given claims, signed with the test servers' key:
// what a holder of the key could mint outside Tokens.Issue.
func signed(t testing.TB, role, org string, expires time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"name": "测试", "role": role, "org": org, "sub": "u", "iss": "fengqiao", "exp": expires.Unix(),
	}).SignedString([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestHealthzShowsItsDetailOnlyToCountyOperators(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sync.ready.Store(true)

	// A load balancer, without a token, learns whether the hub is ready and each
	// connector's state, and nothing else.
	status, body := b.get(t, "/healthz", "")
	var brief struct {
		Status     string
		Connectors []map[string]any
	}
	json.Unmarshal([]byte(body), &brief)
	if status != http.StatusOK || brief.Status != "ready" || len(brief.Connectors) != 1 {
		t.Fatalf("healthz without a token = %d %s", status, body)
	}
	for key := range brief.Connectors[0] {
		if key != "name" && key != "caughtUp" && key != "breaker" {
			t.Errorf("healthz without a token shows %q: %s", key, body)
		}
	}

	for _, role := range []fengqiao.Role{fengqiao.RoleOperator, fengqiao.RoleCommander} {
		status, body := b.get(t, "/healthz", b.token(t, role, county))
		if status != http.StatusOK || !strings.Contains(body, `"recordsIn":5`) || !strings.Contains(body, `"quarantined":1`) || !strings.Contains(body, `"title":"12345政务服务热线"`) {
			t.Errorf("healthz for a county %s = %d %s", role, status, body)
		}
	}
	for name, tc := range map[string]struct {
		token  string
		status int
	}{
		"county analyst":  {b.token(t, fengqiao.RoleAnalyst, county), http.StatusForbidden},
		"town operator":   {b.token(t, fengqiao.RoleOperator, zeguo), http.StatusForbidden},
		"village grid":    {b.token(t, fengqiao.RoleGridStaff, villageA), http.StatusForbidden},
		"garbage":         {"abc", http.StatusUnauthorized},
		"expired":         {signed(t, "OPERATOR", county, time.Now().Add(-time.Minute)), http.StatusUnauthorized},
		"unknown role":    {signed(t, "SUPERUSER", county, time.Now().Add(time.Hour)), http.StatusUnauthorized},
		"unknown org":     {signed(t, "OPERATOR", "999", time.Now().Add(time.Hour)), http.StatusUnauthorized},
		"forged operator": {forgedOperator(t), http.StatusUnauthorized},
	} {
		status, body := b.get(t, "/healthz", tc.token)
		if status != tc.status || !hasChinese.MatchString(body) || strings.Contains(body, "recordsIn") {
			t.Errorf("healthz for %s = %d %s, want %d with a Chinese message", name, status, body, tc.status)
		}
	}
}

func forgedOperator(t *testing.T) string {
	tok, err := gateway.NewTokens([]byte("another key, another authority!!"), fengqiao.Wenling()).
		Issue(fengqiao.Principal{ID: "u", Role: fengqiao.RoleOperator, OrgCode: county}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestMetricsAreForCountyOperatorsOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for name, tc := range map[string]struct {
		token  string
		status int
	}{
		"no token":         {"", http.StatusUnauthorized},
		"garbage":          {"abc", http.StatusUnauthorized},
		"expired operator": {signed(t, "OPERATOR", county, time.Now().Add(-time.Minute)), http.StatusUnauthorized},
		"county analyst":   {b.token(t, fengqiao.RoleAnalyst, county), http.StatusForbidden},
		"county auditor":   {b.token(t, fengqiao.RoleAuditor, county), http.StatusForbidden},
		"town operator":    {b.token(t, fengqiao.RoleOperator, zeguo), http.StatusForbidden},
		"town commander":   {b.token(t, fengqiao.RoleCommander, zeguo), http.StatusForbidden},
		"county operator":  {b.token(t, fengqiao.RoleOperator, county), http.StatusOK},
		"county commander": {b.token(t, fengqiao.RoleCommander, county), http.StatusOK},
	} {
		status, body := b.get(t, "/metrics", tc.token)
		if status != tc.status {
			t.Errorf("metrics for %s = %d, want %d: %.200s", name, status, tc.status, body)
		}
		var r gqlResponse
		if status != http.StatusOK && (json.Unmarshal([]byte(body), &r) != nil || len(r.Errors) != 1 || !hasChinese.MatchString(r.Errors[0].Message)) {
			t.Errorf("metrics for %s: refusal without a Chinese message: %s", name, body)
		}
		if status == http.StatusOK && !strings.Contains(body, "go_goroutines") {
			t.Errorf("metrics for %s: %.200s", name, body)
		}
	}
}

func TestTokensOfUnknownRolesAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.tokens.Issue(fengqiao.Principal{ID: "u", Role: "SUPERUSER", OrgCode: county}, time.Hour); fengqiao.ErrorCode(err) != fengqiao.EINVALID || !hasChinese.MatchString(fengqiao.ErrorMessage(err)) {
		t.Errorf("issuing a SUPERUSER token: %v", err)
	}
	for _, role := range []string{"SUPERUSER", "", "commander"} {
		tok := signed(t, role, county, time.Now().Add(time.Hour))
		if _, err := b.tokens.Verify(tok); fengqiao.ErrorCode(err) != fengqiao.EUNAUTHORIZED {
			t.Errorf("verifying a %q token: %v", role, err)
		}
		status, r := b.query(t, tok, "{ me { name } }", nil)
		if code, msg := firstError(t, r); status != http.StatusUnauthorized || code != fengqiao.EUNAUTHORIZED || !strings.Contains(msg, "角色") {
			t.Errorf("a %q token: status %d, code %q, message %q", role, status, code, msg)
		}
	}
	for _, role := range fengqiao.Roles {
		if _, err := b.tokens.Verify(signed(t, string(role), county, time.Now().Add(time.Hour))); err != nil {
			t.Errorf("a %s token refused: %v", role, err)
		}
	}
}

// While a connector catches up, /healthz shows county operators how far it has
// come: records read and the rate, and the total and time left when the upstream
// says how many are left — or that it does not.
func TestHealthzShowsProgressWhileCatchingUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	since := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	b.sync.progress.Store(&fengqiao.SyncProgress{Read: 1200, Since: since, Rate: 600, Remaining: 3800, Total: 5000, ETA: 7 * time.Second})
	status, body := b.get(t, "/healthz", b.token(t, fengqiao.RoleOperator, county))
	for _, want := range []string{`"read":1200`, `"ratePerSecond":600`, `"total":5000`, `"remaining":3800`, `"etaSeconds":7`} {
		if status != http.StatusServiceUnavailable || !strings.Contains(body, want) {
			t.Errorf("healthz while catching up = %d %s, without %s", status, body, want)
		}
	}
	if _, brief := b.get(t, "/healthz", ""); strings.Contains(brief, "progress") {
		t.Errorf("healthz without a token shows the progress: %s", brief)
	}
	b.sync.progress.Store(&fengqiao.SyncProgress{Read: 900, Since: since, Rate: 450.26, Remaining: -1, Total: -1})
	_, body = b.get(t, "/healthz", b.token(t, fengqiao.RoleOperator, county))
	if !strings.Contains(body, `"read":900`) || !strings.Contains(body, `"ratePerSecond":450.2`) || strings.Contains(body, `"total"`) || !strings.Contains(body, "上游未提供总数") {
		t.Errorf("healthz of an upstream that does not say how many are left: %s", body)
	}
}

// A connector whose last sync failed makes the hub degraded, not starting: 200
// with the reason — by kind for anyone, with the error for county operators —
// once something can be served, 503 while nothing can.
func TestHealthzIsDegradedWhileAConnectorFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	failure := "12345政务服务热线一整页记录没有下一页令牌"
	b.sync.lastError.Store(&failure)
	var brief struct {
		Status  string
		Reasons []string
	}
	status, body := b.get(t, "/healthz", "")
	json.Unmarshal([]byte(body), &brief)
	if status != http.StatusServiceUnavailable || brief.Status != "degraded" || len(brief.Reasons) != 1 {
		t.Errorf("healthz while the only connector fails and never synced = %d %s", status, body)
	}

	b.sync.ready.Store(true) // it has caught up before: the hub serves what it holds
	status, body = b.get(t, "/healthz", "")
	json.Unmarshal([]byte(body), &brief)
	if status != http.StatusOK || brief.Status != "degraded" || len(brief.Reasons) != 1 || !strings.Contains(brief.Reasons[0], "hotline12345：上次同步失败") || strings.Contains(body, failure) {
		t.Errorf("healthz without a token while a connector fails = %d %s", status, body)
	}
	status, body = b.get(t, "/healthz", b.token(t, fengqiao.RoleOperator, county))
	if status != http.StatusOK || !strings.Contains(body, `"status":"degraded"`) || !strings.Contains(body, "上次同步失败："+failure) {
		t.Errorf("healthz for a county operator while a connector fails = %d %s", status, body)
	}
	b.sync.lastError.Store(nil)
	b.sync.open.Store(true)
	status, body = b.get(t, "/healthz", "")
	json.Unmarshal([]byte(body), &brief)
	if status != http.StatusOK || brief.Status != "degraded" || fmt.Sprint(brief.Reasons) != "[hotline12345：熔断中，暂停访问上游]" {
		t.Errorf("healthz while a breaker is open = %d %s", status, body)
	}
	b.sync.open.Store(false)
	if status, body := b.get(t, "/healthz", ""); status != http.StatusOK || !strings.Contains(body, `"status":"ready"`) || strings.Contains(body, "reasons") {
		t.Errorf("healthz once the error is gone = %d %s", status, body)
	}
}
