package manifest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/manifest"
	"fengqiao/connectors/manifests"
	"fengqiao/tools/sim"
)

// withActions is the good manifest with a write side.
const withActions = good + `actions:
  dispatch:
    method: POST
    path: /items/{d.sourceId}/tasks
    query: {src: hub}
    headers: {X-Caller: fengqiao}
    idempotencyHeader: X-Request-Id
    body:
      unit: d.orgCode
      due: d.deadlineText
      note: d.instructions
    success: status == 200 && body.ok
    ref: body.id
    duplicate: status == 409
    reason: get(body, "msg", "")
  supervise:
    path: /items/{d.sourceId}/urge
    body: {note: d.instructions}
    success: status == 200
    ref: body.id
    lookup:
      path: /tasks
      query: {ref: "{d.key}"}
      found: size(body.list) > 0
      ref: body.list[0].id
`

func TestActionsParse(t *testing.T) {
	t.Parallel()
	m, err := manifest.Parse("app.yaml", []byte(withActions), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.ActionNames(), ","); got != "dispatch,supervise" {
		t.Fatalf("actions %s", got)
	}
	if w := m.Warnings(); len(w) != 0 {
		t.Fatalf("warnings %v", w)
	}
	if _, ok := manifest.Open(m, discard).(fengqiao.Dispatcher); !ok {
		t.Fatal("a manifest with actions.dispatch is no Dispatcher")
	}
	plain, err := manifest.Parse("app.yaml", []byte(good), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := manifest.Open(plain, discard).(fengqiao.Dispatcher); ok {
		t.Fatal("a manifest without actions is a Dispatcher")
	}

	// Neither idempotency nor lookup: loads, and check warns.
	risky := strings.Replace(withActions, "    idempotencyHeader: X-Request-Id\n", "", 1)
	m, err = manifest.Parse("app.yaml", []byte(risky), nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := m.Warnings(); len(w) != 1 || !strings.Contains(w[0], "actions.dispatch 既没有 idempotencyHeader 也没有 lookup") {
		t.Fatalf("warnings %v", w)
	}
}

func TestBadActionsAreRejectedWithFieldAndReason(t *testing.T) {
	t.Parallel()
	line := func(text, prefix string) int { // the line of the first line starting with prefix
		for i, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, prefix) {
				return i + 1
			}
		}
		t.Fatalf("no line %q", prefix)
		return 0
	}
	cases := []struct {
		name, from, to string
		at             string // the line, by its start in the changed text (a section's problem is at its first key)
		says           string
	}{
		{"no dispatch", "  dispatch:\n", "  assign:\n", "  assign:", "actions 须包含 dispatch（交办）"},
		{"unknown action", "  supervise:\n", "  urge:\n", "    path: /items/{d.sourceId}/urge", "actions 中没有动作 urge，可用：dispatch（交办）、supervise（督办）"},
		{"bad method", "method: POST", "method: FETCH", "    method:", `actions.dispatch.method 须为 POST、PUT、PATCH，现为 "FETCH"`},
		{"relative path", "path: /items/{d.sourceId}/tasks", "path: items/{d.sourceId}", "    path: items", "actions.dispatch.path 须以 / 开头"},
		{"unclosed template", "path: /items/{d.sourceId}/tasks", "path: /items/{d.sourceId/tasks", "    path: /items/{d.sourceId/", "actions.dispatch.path 中的 { 没有闭合"},
		{"stray brace", "path: /items/{d.sourceId}/tasks", "path: /items/d.sourceId}/tasks", "    path: /items/d.", "actions.dispatch.path 中的 } 没有对应的 {"},
		{"bad path expression", "path: /items/{d.sourceId}/tasks", "path: /items/{d.sourceId +}/tasks", "    path: /items/{d.sourceId +", "actions.dispatch.path 表达式"},
		{"path over the record", "path: /items/{d.sourceId}/tasks", "path: /items/{r.id}/tasks", "    path: /items/{r.id", "undeclared reference to 'r'"},
		{"bad header name", "X-Caller: fengqiao", `"X Caller": fengqiao`, "    headers:", `actions.dispatch.headers 中的请求头名 "X Caller" 不合法`},
		{"bad idempotency header", "idempotencyHeader: X-Request-Id", `idempotencyHeader: "X Request"`, "    idempotencyHeader:", "actions.dispatch.idempotencyHeader 须为请求头名"},
		{"bad body expression", "unit: d.orgCode", "unit: d.orgCode +", "      unit:", "actions.dispatch.body.unit 表达式"},
		{"body over the answer", "unit: d.orgCode", "unit: body.x", "      unit:", "undeclared reference to 'body'"},
		{"missing success", "    success: status == 200 && body.ok\n", "", "    method:", "actions.dispatch 缺少 success"},
		{"success not a truth", "success: status == 200 && body.ok", `success: '"ok"'`, "    success:", "actions.dispatch.success 须为真假值表达式"},
		{"bad success", "success: status == 200 && body.ok", "success: status ==", "    success:", "actions.dispatch.success 表达式"},
		{"missing ref", "    ref: body.id\n    duplicate", "    duplicate", "    method:", "actions.dispatch 缺少 ref"},
		{"bad ref", "ref: body.id\n    duplicate", "ref: body.id)\n    duplicate", "    ref: body.id)", "actions.dispatch.ref 表达式"},
		{"duplicate not a truth", "duplicate: status == 409", "duplicate: status", "    duplicate:", "actions.dispatch.duplicate 须为真假值表达式"},
		{"bad reason", `reason: get(body, "msg", "")`, `reason: get(body, "msg")`, "    reason:", "actions.dispatch.reason 表达式"},
		{"get lookup with body", "      path: /tasks\n", "      path: /tasks\n      body: {x: d.key}\n", "      body:", "actions.supervise.lookup 为 GET 请求，不能有 body"},
		{"lookup method", "      path: /tasks\n", "      method: DELETE\n      path: /tasks\n", "      method:", "actions.supervise.lookup.method 须为 GET、POST"},
		{"lookup without found", "      found: size(body.list) > 0\n", "", "      path: /tasks", "actions.supervise.lookup 缺少 found"},
		{"lookup without ref", "      ref: body.list[0].id\n", "", "      path: /tasks", "actions.supervise.lookup 缺少 ref"},
		{"lookup found not a truth", "found: size(body.list) > 0", "found: size(body.list)", "      found:", "actions.supervise.lookup.found 须为真假值表达式"},
		{"lookup bad query", `query: {ref: "{d.key}"}`, `query: {ref: "{d.key"}`, "      query:", "actions.supervise.lookup.query.ref 中的 { 没有闭合"},
		{"unknown field", "    idempotencyHeader: X-Request-Id\n", "    idempotency: X-Request-Id\n", "    idempotency:", "unknown field"},
		{"code table in body", "note: d.instructions\n    success", "note: code(\"level\", d.priority)\n    success", "", ""},
	}
	for _, tc := range cases {
		text := strings.Replace(withActions, tc.from, tc.to, 1)
		if text == withActions {
			t.Fatalf("%s: %q not in the manifest", tc.name, tc.from)
		}
		_, err := manifest.Parse("app.yaml", []byte(text), nil)
		if tc.says == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var ps manifest.Problems
		if !errors.As(err, &ps) {
			t.Errorf("%s: err = %v, want problems", tc.name, err)
			continue
		}
		want := line(text, tc.at)
		found := false
		for _, p := range ps {
			if p.File == "app.yaml" && p.Line == want && strings.Contains(p.What, tc.says) && hasChinese.MatchString(p.What) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: problems %v, want one at line %d saying %q", tc.name, ps, want, tc.says)
		}
	}
}

// board is a message board simulator with two messages, and the example
// manifest's connector on it (as text changes it).
func board(t *testing.T, change func(string) string) (*sim.MessageBoard, *manifest.Dispatching) {
	t.Helper()
	b := sim.NewMessageBoard([]map[string]string{
		{"留言编号": "LY001", "留言主题": "小区路灯不亮", "留言详情": "三栋门口路灯坏了一周", "留言时间": "2026-10-30 09:00:00", "留言用户": "U1"},
		{"留言编号": "LY002", "留言主题": "噪音扰民", "留言详情": "夜间施工", "留言时间": "2026-10-30 10:00:00", "留言用户": "U2"},
	}, 100)
	b.WriteKey = "board-secret-key"
	srv := httptest.NewServer(b.Handler())
	t.Cleanup(srv.Close)
	text, err := manifests.Examples.ReadFile("examples/messageboard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		text = []byte(change(string(text)))
	}
	m, err := manifest.Parse("messageboard.yaml", text, map[string]string{"MESSAGEBOARD_URL": srv.URL, "MESSAGEBOARD_KEY": b.WriteKey})
	if err != nil {
		t.Fatal(err)
	}
	m.Upstream = connectors.UpstreamConfig{RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond, Timeout: 2 * time.Second}
	d, ok := manifest.New(m, discard).Dispatcher()
	if !ok {
		t.Fatal("the example is no Dispatcher")
	}
	return b, d
}

func sampleDispatch(key, sourceID string) fengqiao.Dispatch {
	return fengqiao.Dispatch{Key: key, Action: fengqiao.ActionIssue, OrderCode: "JF3310812026000001", OrderKind: fengqiao.OrderAssign,
		SourceID: sourceID, OrgCode: "331081100010", Department: "城管中队", Priority: fengqiao.PriorityUrgent,
		Deadline: time.Date(2026, 11, 6, 23, 59, 59, 0, fengqiao.CST), Instructions: "请三日内修复并回复留言人"}
}

func TestDispatchThroughTheExampleManifest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, d := board(t, nil)

	// Accepted: the board's own id comes back.
	r, err := d.Dispatch(ctx, sampleDispatch("DLV-1", "LY001"))
	if err != nil || r.Ref != "ZB000001" || r.Duplicate {
		t.Fatalf("dispatch: %+v, %v", r, err)
	}
	// The same delivery again: the board recognises the key.
	r, err = d.Dispatch(ctx, sampleDispatch("DLV-1", "LY001"))
	if err != nil || r.Ref != "ZB000001" || !r.Duplicate {
		t.Fatalf("repeat: %+v, %v", r, err)
	}
	// 督办 goes by the supervise action.
	sup := sampleDispatch("DLV-2", "LY001")
	sup.OrderKind = fengqiao.OrderSupervise
	if r, err = d.Dispatch(ctx, sup); err != nil || r.Ref != "CB000002" {
		t.Fatalf("supervise: %+v, %v", r, err)
	}
	if got := strings.Join(b.Transfers("LY001"), ","); got != "ZB000001,CB000002" {
		t.Fatalf("transfers %s", got)
	}

	// Refused, with the board's reason: EINVALID.
	sup = sampleDispatch("DLV-3", "LY002")
	sup.OrderKind = fengqiao.OrderSupervise
	_, err = d.Dispatch(ctx, sup)
	if fengqiao.ErrorCode(err) != fengqiao.EINVALID || fengqiao.ErrorMessage(err) != "民情留言板拒绝了督办：留言尚未转办，不能催办" {
		t.Fatalf("refused: %v", err)
	}
	_, err = d.Dispatch(ctx, sampleDispatch("DLV-4", "LY404"))
	if fengqiao.ErrorCode(err) != fengqiao.EINVALID || !strings.Contains(fengqiao.ErrorMessage(err), "留言不存在：LY404") {
		t.Fatalf("unknown message: %v", err)
	}
	// A priority the code table lacks: the request cannot be built, EINVALID.
	odd := sampleDispatch("DLV-5", "LY002")
	odd.Priority = "SOMEDAY"
	_, err = d.Dispatch(ctx, odd)
	if fengqiao.ErrorCode(err) != fengqiao.EINVALID || !strings.Contains(fengqiao.ErrorMessage(err), `actions.dispatch.body.level：代码表 level 中没有 "SOMEDAY"`) {
		t.Fatalf("unmappable: %v", err)
	}

	// 5xx: EUNAVAILABLE, nothing made.
	b.Set(sim.Faults{ErrorRate: 1})
	_, err = d.Dispatch(ctx, sampleDispatch("DLV-6", "LY002"))
	if fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
		t.Fatalf("5xx: %v", err)
	}
	b.Set(sim.Faults{})
	if got := b.Transfers("LY002"); len(got) != 0 {
		t.Fatalf("transfers after refusals and failures: %v", got)
	}

	// The answer lost: the client's own retry carries the same key, and the board
	// answers it as the duplicate of the transfer it made.
	b.Set(sim.Faults{DropRate: 1})
	done, before := make(chan struct{}), b.Requests()
	go func() { // the second answer gets through
		defer close(done)
		for b.Requests() <= before {
			time.Sleep(time.Millisecond)
		}
		b.Set(sim.Faults{})
	}()
	r, err = d.Dispatch(ctx, sampleDispatch("DLV-7", "LY002"))
	<-done
	if err != nil || !r.Duplicate || len(b.Transfers("LY002")) != 1 || r.Ref != b.Transfers("LY002")[0] {
		t.Fatalf("lost answer: %+v, %v, transfers %v", r, err, b.Transfers("LY002"))
	}
}

func TestDispatchCredentialsRefused(t *testing.T) {
	t.Parallel()
	b, d := board(t, nil)
	b.WriteKey = "another"
	_, err := d.Dispatch(context.Background(), sampleDispatch("DLV-1", "LY001"))
	if fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE || !strings.Contains(fengqiao.ErrorMessage(err), "拒绝了接入凭据") {
		t.Fatalf("401: %v", err)
	}
}

// withLookup turns the example into the manifest of a board without idempotency
// keys: the lookup finds a transfer by the delivery's key.
func withLookup(text string) string {
	return strings.Replace(text, "    idempotencyHeader: X-Request-Id             # 投递的 Key：重试时留言板认出重复\n", `    lookup:
      path: /api/transfers
      query: {outerNo: "{d.key}"}
      found: body.code == 0 && size(body.data.list) > 0
      ref: body.data.list[0].transferId
`, 1)
}

func TestDispatchLooksUpBeforeRetrying(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, d := board(t, withLookup)
	// The lookup (the first answer) gets through, the transfer's answer (the
	// second) is lost: the transfer is made, the hub does not know.
	b.Set(sim.Faults{DropRate: 0.5})
	_, err := d.Dispatch(ctx, sampleDispatch("DLV-1", "LY001"))
	if fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
		t.Fatalf("lost answer: %v", err)
	}
	if got := b.Transfers("LY001"); len(got) != 1 {
		t.Fatalf("the lost transfer was sent %d times: %v", len(got), got)
	}
	// The retry asks first, finds it, and sends nothing.
	b.Set(sim.Faults{})
	r, err := d.Dispatch(ctx, sampleDispatch("DLV-1", "LY001"))
	if err != nil || !r.Duplicate || r.Ref != "ZB000001" {
		t.Fatalf("retry: %+v, %v", r, err)
	}
	if got := b.Transfers("LY001"); len(got) != 1 {
		t.Fatalf("transfers after the retry: %v", got)
	}
	// Another delivery is not mistaken for it.
	r, err = d.Dispatch(ctx, sampleDispatch("DLV-2", "LY001"))
	if err != nil || r.Duplicate || r.Ref != "ZB000002" {
		t.Fatalf("second delivery: %+v, %v", r, err)
	}
	// A lookup that fails: nothing is sent.
	b.Set(sim.Faults{ErrorRate: 1})
	if _, err = d.Dispatch(ctx, sampleDispatch("DLV-3", "LY001")); fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
		t.Fatalf("lookup failing: %v", err)
	}
	b.Set(sim.Faults{})
	if got := b.Transfers("LY001"); len(got) != 2 {
		t.Fatalf("transfers: %v", got)
	}
}

// Without idempotency, the create is sent once per call: the client does not
// repeat it on its own after a failure.
func TestDispatchWithoutIdempotencyIsSentOnce(t *testing.T) {
	t.Parallel()
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		http.Error(w, "busy", http.StatusBadGateway)
	}))
	defer srv.Close()
	text := good + `actions:
  dispatch:
    path: /tasks
    body: {id: d.sourceId}
    success: status == 201
    ref: body.id
`
	m, err := manifest.Parse("app.yaml", []byte(strings.Replace(text, "http://127.0.0.1:9", srv.URL, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Upstream = connectors.UpstreamConfig{RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}
	d, _ := manifest.New(m, discard).Dispatcher()
	if _, err := d.Dispatch(context.Background(), sampleDispatch("K", "1")); fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
		t.Fatalf("502: %v", err)
	}
	if posts.Load() != 1 {
		t.Fatalf("sent %d times", posts.Load())
	}
}

func TestDispatchBodyAndJudging(t *testing.T) {
	t.Parallel()
	var got struct {
		header http.Header
		body   string
		uri    string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 4096)
		n, _ := r.Body.Read(b)
		got.header, got.body, got.uri = r.Header, string(b[:n]), r.URL.RequestURI()
		w.Header().Set("X-Task", "T-9")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte("created"))
	}))
	defer srv.Close()
	text := good + `actions:
  dispatch:
    method: put
    path: /items/{d.sourceId}/{d.orderCode}
    query: {due: "{formatTime(d.deadline, \"unix\")}"}
    headers: {X-Org: "{d.orgCode}"}
    body:
      due: formatTime(d.deadline, "2006年01月02日")
      at: d.deadline
      n: 3
      nested: '{"kind": d.orderKind, "tags": [d.priority, d.department]}'
      none: "null"
    success: status == 201 && body == "created"
    ref: headers["x-task"]
`
	m, err := manifest.Parse("app.yaml", []byte(strings.Replace(text, "http://127.0.0.1:9", srv.URL, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := manifest.New(m, discard).Dispatcher()
	dp := sampleDispatch("K", "a b/c")
	r, err := d.Dispatch(context.Background(), dp)
	if err != nil || r.Ref != "T-9" {
		t.Fatalf("dispatch: %+v, %v", r, err)
	}
	if want := "/items/a%20b%2Fc/JF3310812026000001?due=1793980799"; got.uri != want {
		t.Errorf("uri %s, want %s", got.uri, want)
	}
	if got.header.Get("X-Org") != "331081100010" || got.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", got.header)
	}
	if want := `{"at":"2026-11-06T23:59:59+08:00","due":"2026年11月06日","n":3,"nested":{"kind":"ASSIGN","tags":["URGENT","城管中队"]},"none":null}`; got.body != want {
		t.Errorf("body %s\nwant %s", got.body, want)
	}
}
