package sim

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"fengqiao/tools/world"
)

func testWorld(t *testing.T) *world.World {
	t.Helper()
	return world.Generate(world.Config{Seed: 4, Scale: 0.001, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST)})
}

// post sends body as JSON with the headers and decodes the answer into out.
func post(t *testing.T, url string, header map[string]string, body, out any) error {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

type hotlineAnswer struct {
	Success bool            `json:"success"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Result  hotlineDispatch `json:"result"`
}

func TestHotlineDispatch(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	h := NewHotline12345(w, "key")
	srv := httptest.NewServer(h.Handler())
	defer srv.Close()
	var open, handling, closed *world.HotlineOrder
	for _, o := range w.Hotline {
		switch {
		case o.Malformed == "" && o.BLZT == "待受理" && open == nil:
			open = o
		case o.BLZT == "办理中" && handling == nil:
			handling = o
		case o.BLZT == "已办结" && closed == nil:
			closed = o
		}
	}
	town := w.Tree.Units("TOWN")[0]
	body := map[string]string{"gdbh": open.GDBH, "cbdw": town.Code, "blqx": "2026-12-03 17:30:00", "jjcd": "紧急", "clyj": "请核实处理", "jfm": "JF331081-2026-000001"}
	headers := map[string]string{"X-Api-Key": "key", "X-Request-Id": "req-1"}

	var first, again hotlineAnswer
	if err := post(t, srv.URL+"/api/v1/gd/dispatch", headers, body, &first); err != nil || !first.Success || first.Code != 200 || first.Result.PDBH[:2] != "PD" {
		t.Fatalf("dispatch: %+v %v", first, err)
	}
	if err := post(t, srv.URL+"/api/v1/gd/dispatch", headers, body, &again); err != nil || !again.Success || again.Code != 208 || again.Result != first.Result {
		t.Fatalf("repeat: %+v %v, want code 208 and %+v", again, err, first.Result)
	}
	if ids := h.Dispatched(open.GDBH); len(ids) != 1 {
		t.Fatalf("dispatched %v, want one", ids)
	}
	o, _ := h.orders.get(open.GDBH)
	if o.BLZT != "已派单" || o.CBDW != town.Code || o.JFM != "JF331081-2026-000001" || o.BLDW != hotlineUnitName(town) || !o.Updated.After(open.Updated) {
		t.Fatalf("after dispatch: %+v", o)
	}
	if err := h.Complete(open.GDBH, "已修复"); err != nil {
		t.Fatal(err)
	}
	if o, _ := h.orders.get(open.GDBH); o.BLZT != "已办结" || o.BLJG != "已修复" || o.BJSJ == "" || o.JFM == "" {
		t.Fatalf("after completion: %+v", o)
	}

	for name, c := range map[string]struct {
		path   string
		change func(map[string]string)
		code   int
	}{
		"unknown":   {"/api/v1/gd/dispatch", func(b map[string]string) { b["gdbh"] = "GD0" }, 404},
		"closed":    {"/api/v1/gd/dispatch", func(b map[string]string) { b["gdbh"] = closed.GDBH }, 409},
		"completed": {"/api/v1/gd/supervise", func(b map[string]string) {}, 409},
		"county":    {"/api/v1/gd/dispatch", func(b map[string]string) { b["gdbh"], b["cbdw"] = handling.GDBH, "331081" }, 422},
		"no unit":   {"/api/v1/gd/supervise", func(b map[string]string) { b["gdbh"], b["cbdw"] = handling.GDBH, "123" }, 422},
		"no text":   {"/api/v1/gd/supervise", func(b map[string]string) { b["gdbh"], b["clyj"] = handling.GDBH, " " }, 400},
		"priority":  {"/api/v1/gd/supervise", func(b map[string]string) { b["gdbh"], b["jjcd"] = handling.GDBH, "急" }, 400},
	} {
		b := map[string]string{}
		for k, v := range body {
			b[k] = v
		}
		c.change(b)
		var a hotlineAnswer
		if err := post(t, srv.URL+c.path, map[string]string{"X-Api-Key": "key", "X-Request-Id": name}, b, &a); err != nil || a.Success ||
			a.Code != c.code || a.Message == "" {
			t.Errorf("%s: %+v %v, want code %d", name, a, err, c.code)
		}
	}
	var a hotlineAnswer
	if post(t, srv.URL+"/api/v1/gd/dispatch", map[string]string{"X-Api-Key": "nope"}, body, &a); a.Code != 401 {
		t.Errorf("bad key: %+v", a)
	}
}

// A dropped answer: the work is done, the client hears nothing.
func TestDroppedAnswer(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	m := NewMediation(w, "app", "secret")
	m.Set(Faults{DropRate: 1})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	var c *world.MediationCase
	for _, x := range w.Mediation {
		if (x.CaseStatus == "已受理" || x.CaseStatus == "调解中") && x.Malformed == "" {
			c = x
			break
		}
	}
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	sum := md5.Sum([]byte("app" + ts + "secret"))
	headers := map[string]string{"X-App-Id": "app", "X-Timestamp": ts, "X-Sign": hex.EncodeToString(sum[:])}
	task := map[string]any{"bizNo": "D-1", "caseNo": c.CaseNo, "taskType": "交办", "undertakeOrgCode": c.GridCode,
		"urgentLevel": "1", "deadline": time.Now().Add(72 * time.Hour).UnixMilli(), "taskContent": "请化解", "disputeCode": "JF1"}
	var reply mediationReply
	if err := post(t, srv.URL+"/openapi/mediation/task/create", headers, task, &reply); err == nil {
		t.Fatalf("an answer came through: %+v", reply)
	}
	m.Set(Faults{AckDelay: 10 * time.Millisecond})
	start := time.Now()
	if err := post(t, srv.URL+"/openapi/mediation/task/create", headers, task, &reply); err != nil || reply.Code != "0000" || time.Since(start) < 10*time.Millisecond {
		t.Fatalf("slow answer: %+v %v", reply, err)
	}
	// No idempotency: the ledger made two tasks, both found by the business number.
	if ts := m.Tasks("D-1", ""); len(ts) != 2 || ts[0].TaskID == ts[1].TaskID {
		t.Fatalf("tasks %+v, want two", ts)
	}
	if got, _ := m.cases.get(c.CaseNo); got.CaseStatus != "已交办" || got.DisputeCode != "JF1" || got.UndertakeOrgCode != c.GridCode {
		t.Fatalf("case after the task: %+v", got)
	}
	m.Set(Faults{})
	if err := post(t, srv.URL+"/openapi/mediation/task/create", headers, map[string]any{"bizNo": "D-2", "caseNo": "TJ0", "taskType": "交办",
		"undertakeOrgCode": c.GridCode, "deadline": 1, "taskContent": "x"}, &reply); err != nil || reply.Code != "4004" {
		t.Fatalf("unknown case: %+v %v", reply, err)
	}
}
