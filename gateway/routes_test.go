package gateway_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/gateway"
	"fengqiao/resolvers"
)

// TestHandleRoles: a route the hub adds for some roles answers them, with the
// principal in the context, and refuses others and no token in Chinese;
// WriteError maps a code to its status.
func TestHandleRoles(t *testing.T) {
	t.Parallel()
	tree := fengqiao.Wenling()
	tokens := gateway.NewTokens([]byte(testKey), tree)
	s := gateway.NewServer(gateway.Config{}, &resolvers.Resolver{Tree: tree, Index: stallingIndex{}, Sync: &fakeSync{}}, tokens,
		func() bool { return true }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.HandleRoles("GET /reports/x", "测试报表", []fengqiao.Role{fengqiao.RoleCommander, fengqiao.RoleAnalyst}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := fengqiao.PrincipalFrom(r.Context())
		if r.URL.Query().Get("org") == "elsewhere" {
			gateway.WriteError(w, fengqiao.Errorf(fengqiao.ENOTFOUND, "组织单元不存在或不在管辖范围内"))
			return
		}
		io.WriteString(w, p.OrgCode+" "+string(p.Role)+" "+p.Remote)
	}))
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	token := func(role fengqiao.Role) string {
		tok, err := tokens.Issue(fengqiao.Principal{ID: "u", Role: role, OrgCode: "331081100"}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	get := func(tok, query string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/reports/x"+query, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(token(fengqiao.RoleAnalyst), ""); code != 200 || !strings.HasPrefix(body, "331081100 ANALYST 127.0.0.1:") {
		t.Errorf("analyst: %d %s", code, body)
	}
	for _, c := range []struct {
		token, query string
		status       int
		code, says   string
	}{
		{"", "", 401, fengqiao.EUNAUTHORIZED, "未提供身份令牌"},
		{"garbage", "", 401, fengqiao.EUNAUTHORIZED, "身份令牌无效"},
		{token(fengqiao.RoleGridStaff), "", 403, fengqiao.EFORBIDDEN, "测试报表仅限指挥长、研判分析员使用"},
		{token(fengqiao.RoleOperator), "", 403, fengqiao.EFORBIDDEN, "仅限"},
		{token(fengqiao.RoleCommander), "?org=elsewhere", 404, fengqiao.ENOTFOUND, "不在管辖范围内"},
	} {
		code, body := get(c.token, c.query)
		var r struct {
			Errors []struct {
				Message    string
				Extensions struct{ Code string }
			}
		}
		json.Unmarshal([]byte(body), &r)
		if code != c.status || len(r.Errors) != 1 || r.Errors[0].Extensions.Code != c.code || !strings.Contains(r.Errors[0].Message, c.says) {
			t.Errorf("token %.10q%s: %d %s; want %d %s saying %s", c.token, c.query, code, body, c.status, c.code, c.says)
		}
	}
}
