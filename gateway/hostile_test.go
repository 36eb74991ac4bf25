package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/gateway"
)

// hostile is one hostile request and how the hub must answer it: before anything
// runs, with its own status, code and Chinese message.
type hostile struct {
	name        string
	method      string // default POST
	contentType string // default application/json
	token       string
	path        string // default /graphql
	body        []byte
	status      int
	code        string
	message     string // a part of the first error's message that names the refusal
}

// gql is the JSON body of a GraphQL request.
func gql(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

func (h hostile) request(base string) *http.Request {
	method, path, ctype := h.method, h.path, h.contentType
	if method == "" {
		method = http.MethodPost
	}
	if path == "" {
		path = "/graphql"
	}
	if ctype == "" {
		ctype = "application/json"
	}
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(h.body))
	req.Header.Set("Content-Type", ctype)
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	return req
}

// hostileRequests are the shapes of issue 11 and of the OWASP GraphQL cheat sheet.
// A village grid worker's token is all an attacker needs.
func hostileRequests(tb testing.TB, b *testBundle) []hostile {
	grid := b.issue(tb, fengqiao.RoleGridStaff, villageA+"001")
	limit := func(name, query string, vars map[string]any, message string) hostile {
		return hostile{name: name, token: grid, body: gql(query, vars), status: http.StatusBadRequest, code: fengqiao.ELIMIT, message: message}
	}
	invalid := func(name, query string, vars map[string]any, message string) hostile {
		return hostile{name: name, token: grid, body: gql(query, vars), status: http.StatusBadRequest, code: fengqiao.EINVALID, message: message}
	}
	bad := func(name string, body []byte, status int, code, message string) hostile {
		return hostile{name: name, token: grid, body: body, status: status, code: code, message: message}
	}

	manyVars := map[string]any{}
	for i := range 20000 {
		manyVars[fmt.Sprintf("v%d", i)] = i
	}
	fullVars := map[string]any{}
	for i := range 50 {
		fullVars[fmt.Sprintf("v%d", i)] = make([]int, 100)
	}
	var declared strings.Builder
	declared.WriteString("query(")
	for i := range 200 {
		fmt.Fprintf(&declared, "$v%d: Int ", i)
	}
	declared.WriteString(") { me { name } }")
	items := make([]string, 100000)
	for i := range items {
		items[i] = "x"
	}
	nested := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	var unknown strings.Builder
	unknown.WriteString("{")
	for i := range 200 {
		fmt.Fprintf(&unknown, " f%d", i)
	}
	unknown.WriteString(" }")

	return []hostile{
		limit("fragment bomb", gateway.FragmentBomb(40), nil, "多得无法计数"),
		limit("fragments doubling down a tree", gateway.NestedFragmentBomb(10), nil, "个选择项"),
		limit("too many fragments", fragments(60), nil, "个片段"),
		invalid("circular fragments", `{ ...A } fragment A on Query { me { name } ...B } fragment B on Query { ...A }`, nil, "片段循环引用：A → B → A"),
		limit("deep nesting", gateway.Deep(11), nil, "嵌套层数"),
		limit("very deep nesting", gateway.Deep(600), nil, "嵌套层数"),
		limit("alias flood: guessing masked digits", gateway.Aliases(100, `events(filter: {identifier: "13800000000"}) { totalCount }`), nil, "别名超过30个"),
		limit("10,000 aliases", gateway.Aliases(10000, "me { name }"), nil, "查询过长"),
		limit("field duplication", "{"+strings.Repeat(" me { name }", 500)+" }", nil, "字段me在同一层重复请求超过10次"),
		limit("huge list argument", `{ events(filter: {categories: [`+strings.Repeat(`"邻里纠纷" `, 1000)+`]}) { totalCount } }`, nil, "列表有1000项"),
		limit("huge list variable", `query($c: [String!]) { events(filter: {categories: $c}) { totalCount } }`, map[string]any{"c": items}, "变量$c中的列表超过100项"),
		limit("variable flood", `{ me { name } }`, manyVars, "请求携带的变量超过50个"),
		limit("variable values flood", `{ me { name } }`, fullVars, "变量中的取值共超过5000个"),
		limit("declared variable flood", declared.String(), nil, "查询声明了200个变量"),
		limit("directive flood", "{ me "+strings.Repeat("@include(if: true) ", 50)+"{ name } }", nil, "指令超过20个"),
		invalid("very long string argument", fmt.Sprintf(`{ person(id: %q) { name } }`, strings.Repeat("长", 20000)), nil, "字符串最长10000个字符"),
		invalid("very long string variable", `query($id: ID!) { person(id: $id) { name } }`, map[string]any{"id": strings.Repeat("长", 200000)}, "字符串最长10000个字符"),
		limit("nested introspection", `{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }`, nil, "内省查询嵌套过深"),
		limit("pages of pages", `{ events(first: 100) { edges { node { parties { person { events(first: 100) { edges { node { id } } } } } } } } }`, nil, "查询复杂度为30501"),
		limit("page too large", `{ events(first: 100000) { totalCount } }`, nil, "每页最多100条"),
		invalid("error flood", unknown.String(), nil, "另有"),
		bad("oversized body", gql("{ me { name } }", map[string]any{"pad": strings.Repeat("x", 2<<20)}), http.StatusRequestEntityTooLarge, fengqiao.ELIMIT, "请求体超过上限1048576字节"),
		bad("not JSON", []byte("query { me { name } }"), http.StatusBadRequest, fengqiao.EINVALID, "不是合法的 JSON"),
		limit("nested JSON variable", `query($a: [[Int]]) { me { name } }`, map[string]any{"a": json.RawMessage(nested)}, "变量$a嵌套超过16层"),
		bad("nested JSON", []byte(`{"query": "{ me { name } }", "extensions": {"a": `+nested+`}}`), http.StatusBadRequest, fengqiao.EINVALID, "JSON 嵌套超过32层"),
		bad("query not a string", []byte(`{"query": {"query": "{ me { name } }"}}`), http.StatusBadRequest, fengqiao.EINVALID, "query 与 operationName 须为字符串"),
		bad("a JSON string", []byte(`"{ me { name } }"`), http.StatusBadRequest, fengqiao.EINVALID, "须为 JSON 对象"),
		bad("empty body", nil, http.StatusBadRequest, fengqiao.EINVALID, "请求体为空"),
		bad("batch array", []byte(`[{"query": "{ me { name } }"}, {"query": "{ me { role } }"}]`), http.StatusBadRequest, fengqiao.EINVALID, "不支持批量查询"),
		bad("subscription over POST", gql("subscription { alerts { id } }", nil), http.StatusBadRequest, fengqiao.EINVALID, "订阅须通过 WebSocket"),
		{name: "wrong method", method: http.MethodPut, token: grid, body: gql("{ me { name } }", nil), status: http.StatusMethodNotAllowed, code: fengqiao.EINVALID, message: "不支持 PUT 请求"},
		{name: "wrong content type", contentType: "text/plain", token: grid, body: gql("{ me { name } }", nil), status: http.StatusUnsupportedMediaType, code: fengqiao.EINVALID, message: "Content-Type 应为 application/json"},
		{name: "form post", contentType: "application/x-www-form-urlencoded", token: grid, body: []byte("query=%7B+me+%7B+name+%7D+%7D"), status: http.StatusUnsupportedMediaType, code: fengqiao.EINVALID, message: "Content-Type 应为 application/json"},
		{name: "variables not JSON over GET", method: http.MethodGet, path: "/graphql?query=" + url.QueryEscape("query($n: Int) { events(first: $n) { totalCount } }") + "&variables=%7Bn", token: grid, status: http.StatusBadRequest, code: fengqiao.EINVALID, message: "参数 variables不是合法的 JSON"},
		{name: "unknown role", token: signed(tb, "SUPERUSER", county, time.Now().Add(time.Hour)), body: gql("{ me { name } }", nil), status: http.StatusUnauthorized, code: fengqiao.EUNAUTHORIZED, message: "角色无效"},
		{name: "expired token", token: signed(tb, "COMMANDER", county, time.Now().Add(-time.Second)), body: gql("{ me { name } }", nil), status: http.StatusUnauthorized, code: fengqiao.EUNAUTHORIZED, message: "已过期"},
		{name: "no token", body: gql("{ me { name } }", nil), status: http.StatusUnauthorized, code: fengqiao.EUNAUTHORIZED, message: "未提供身份令牌"},
	}
}

// fragments defines n fragments, all spread.
func fragments(n int) string {
	var q, defs strings.Builder
	q.WriteString("{")
	for i := range n {
		fmt.Fprintf(&q, " ...F%d", i)
		fmt.Fprintf(&defs, " fragment F%d on Query { me { name } }", i)
	}
	return q.String() + " }" + defs.String()
}

func TestHostileRequestsAreRefusedWithTheirOwnMessages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seen := map[string]string{}
	for _, h := range hostileRequests(t, b) {
		resp, err := http.DefaultClient.Do(h.request(b.srv.URL))
		if err != nil {
			t.Fatalf("%s: %v", h.name, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r gqlResponse
		if err := json.Unmarshal(raw, &r); err != nil || len(r.Errors) == 0 {
			t.Errorf("%s: %d %.300s", h.name, resp.StatusCode, raw)
			continue
		}
		code, msg := r.Errors[0].Extensions["code"], r.Errors[len(r.Errors)-1].Message
		if h.name != "error flood" {
			msg = r.Errors[0].Message
		}
		if resp.StatusCode != h.status || code != h.code || !strings.Contains(msg, h.message) || !hasChinese.MatchString(msg) {
			t.Errorf("%s: %d %v %q, want %d %s %q", h.name, resp.StatusCode, code, msg, h.status, h.code, h.message)
		}
		if string(r.Data) != "" && string(r.Data) != "null" {
			t.Errorf("%s: it ran: %.200s", h.name, r.Data)
		}
		if len(raw) > 8<<10 {
			t.Errorf("%s: a %d-byte answer", h.name, len(raw))
		}
		if other, dup := seen[r.Errors[0].Message]; dup && h.name != "very long string variable" && h.name != "very long string argument" {
			t.Errorf("%s answered with the message of %s: %q", h.name, other, r.Errors[0].Message)
		}
		seen[r.Errors[0].Message] = h.name
	}

	// The hub is still healthy: an ordinary query, and GraphiQL's introspection.
	tok := b.token(t, fengqiao.RoleGridStaff, villageA+"001")
	if _, r := b.query(t, tok, `{ me { name } events { totalCount } }`, nil); string(r.Data) != `{"me":{"name":"测试"},"events":{"totalCount":1}}` {
		t.Errorf("after the hostile requests: %s %v", r.Data, r.Errors)
	}
	if _, r := b.query(t, tok, gateway.IntrospectionQuery, nil); len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"queryType":{"name":"Query"}`) {
		t.Errorf("introspection after the hostile requests: %v", r.Errors)
	}
}

func TestTooManyErrorsAreCounted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var q strings.Builder
	q.WriteString("{")
	for i := range 200 {
		fmt.Fprintf(&q, " f%d", i)
	}
	q.WriteString(" }")
	status, r := b.query(t, b.token(t, fengqiao.RoleAnalyst, county), q.String(), nil)
	if status != http.StatusBadRequest || len(r.Errors) != 21 || !strings.Contains(r.Errors[20].Message, "另有180条错误未列出") {
		t.Fatalf("%d, %d errors, last %+v", status, len(r.Errors), r.Errors[len(r.Errors)-1])
	}
	if !strings.HasPrefix(r.Errors[0].Message, "查询不符合接口定义：") || r.Errors[0].Extensions["code"] != fengqiao.EINVALID {
		t.Errorf("first error %+v", r.Errors[0])
	}
}

func TestRefusedBodiesAreLoggedAsAnExcerpt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := []byte("{" + strings.Repeat("垃圾", 100_000))
	req := hostile{token: b.token(t, fengqiao.RoleAnalyst, county), body: body}.request(b.srv.URL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	logged := b.logs.String()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(logged, "graphql request refused") || !strings.Contains(logged, "bytes=600001") {
		t.Fatalf("%d, logged %.500s", resp.StatusCode, logged)
	}
	if len(logged) > 2000 {
		t.Errorf("logged %d bytes for a refused body", len(logged))
	}
}

func TestHostileRequestsStopAtTheDeadline(t *testing.T) {
	t.Parallel()
	// With no time at all, a query is refused as timed out, however it was sent.
	b := setupWith(t, gateway.Config{RequestTimeout: time.Nanosecond})
	status, r := b.query(t, b.token(t, fengqiao.RoleAnalyst, county), `{ me { name } }`, nil)
	if code, msg := firstError(t, r); code != fengqiao.ELIMIT || !strings.Contains(msg, "查询超时") {
		t.Errorf("%d %q %q", status, code, msg)
	}
}

// BenchmarkHostileRequests measures what each hostile request costs the hub, from
// the request to the refusal, over loopback. The target is under 10 ms each.
func BenchmarkHostileRequests(bm *testing.B) {
	b := setupWith(bm, gateway.Config{})
	client := &http.Client{}
	for _, h := range hostileRequests(bm, b) {
		bm.Run(strings.ReplaceAll(h.name, " ", "_"), func(bm *testing.B) {
			for bm.Loop() {
				resp, err := client.Do(h.request(b.srv.URL))
				if err != nil {
					bm.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != h.status {
					bm.Fatalf("%s: status %d", h.name, resp.StatusCode)
				}
			}
		})
	}
}
