package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"fengqiao"
	"fengqiao/gateway"
)

func TestPprofIsOffUnlessConfigured(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
		if status, _ := b.get(t, path, b.token(t, fengqiao.RoleOperator, county)); status != http.StatusNotFound {
			t.Errorf("GET %s with pprof off = %d, want 404", path, status)
		}
	}
}

func TestPprofServesCountyOperatorsWhenOn(t *testing.T) {
	t.Parallel()
	b := setupWith(t, gateway.Config{Pprof: true})
	operator := b.token(t, fengqiao.RoleOperator, county)
	status, body := b.get(t, "/debug/pprof/", operator)
	if status != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("index = %d %.200s", status, body)
	}
	if status, body := b.get(t, "/debug/pprof/goroutine?debug=1", b.token(t, fengqiao.RoleCommander, county)); status != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Fatalf("goroutine = %d %.200s", status, body)
	}
	if status, body := b.get(t, "/debug/pprof/heap", operator); status != http.StatusOK || len(body) == 0 {
		t.Fatalf("heap = %d, %d bytes", status, len(body))
	}
	// Everyone else is refused, in Chinese.
	for _, c := range []struct {
		token string
		want  int
	}{
		{"", http.StatusUnauthorized},
		{"not-a-token", http.StatusUnauthorized},
		{b.token(t, fengqiao.RoleAnalyst, county), http.StatusForbidden},
		{b.token(t, fengqiao.RoleOperator, zeguo), http.StatusForbidden},
	} {
		status, body := b.get(t, "/debug/pprof/heap", c.token)
		if status != c.want || !strings.Contains(body, "性能剖析") && c.token == "" {
			t.Errorf("token %.20q: %d %.200s, want %d", c.token, status, body, c.want)
		}
	}
}
