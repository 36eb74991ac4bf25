package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fengqiao/connectors"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// testAlertTime dates the alerts of testAlerts, so that a number makes the same id
// all through the tests.
var testAlertTime = time.Now().Add(-time.Minute)

// testAlerts makes n alarms of a device (one no registry lists if d is nil),
// numbered from first.
func testAlerts(d *world.Device, first, n int) []world.Alert {
	if d == nil {
		d = &world.Device{DeviceID: "YG-331081102245-00002", Kind: "SMOKE_SENSOR"}
	}
	out := make([]world.Alert, n)
	for i := range out {
		out[i] = world.NewAlert(d, "SMOKE", "ALARM", testAlertTime, first+i)
	}
	return out
}

// inboxIDs returns how many times each alert id is in the inbox of a state.
func inboxIDs(t *testing.T, st *connectors.State) map[string]int {
	t.Helper()
	queued, err := st.Dequeue(inbox, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, q := range queued {
		var a alert
		if err := json.Unmarshal(q.Value, &a); err != nil {
			t.Fatal(err)
		}
		ids[a.AlertID]++
	}
	return ids
}

func (b *testBundle) pushBatch(t *testing.T, alerts []world.Alert) (int, sim.BatchAnswer) {
	t.Helper()
	status, ans, err := b.pusher.PushBatch(context.Background(), alerts)
	if err != nil {
		t.Fatal(err)
	}
	return status, ans
}

func TestBatchesAreStoredOnce(t *testing.T) {
	b := setup(t)
	d := b.county.Alerts.Devices()[0]
	first := testAlerts(d, 1, 64)
	var status int
	var ans sim.BatchAnswer
	got := counted(func() { status, ans = b.pushBatch(t, first) })
	if status != http.StatusOK || ans.Accepted != 64 || ans.Duplicate != 0 || ans.Rejected != 0 || ans.Message != "共 64 条：接收 64 条，重复 0 条，拒收 0 条" ||
		got["accepted"] != 64 || len(got) != 1 {
		t.Fatalf("a batch of 64: %d %+v, counted %v", status, ans, got)
	}
	// Resent whole, and overlapping the next: the known ids are duplicates.
	if status, ans = b.pushBatch(t, first); status != http.StatusOK || ans.Accepted != 0 || ans.Duplicate != 64 {
		t.Fatalf("the batch resent: %d %+v", status, ans)
	}
	if status, ans = b.pushBatch(t, append(first[32:], testAlerts(d, 65, 16)...)); status != http.StatusOK || ans.Accepted != 16 || ans.Duplicate != 32 {
		t.Fatalf("a batch half known: %d %+v", status, ans)
	}
	// An id twice in one batch goes in once, and a single push of it is a duplicate.
	again := testAlerts(d, 100, 3)
	if status, ans = b.pushBatch(t, append(again, again[1])); status != http.StatusOK || ans.Accepted != 3 || ans.Duplicate != 1 {
		t.Fatalf("an id twice in a batch: %d %+v", status, ans)
	}
	if status, err := b.pusher.Push(context.Background(), again[1]); err != nil || status != http.StatusOK {
		t.Fatalf("a single push of an id a batch held: %d %v", status, err)
	}
	// An empty batch is nothing to do.
	if status, ans = b.pushBatch(t, []world.Alert{}); status != http.StatusOK || ans.Accepted+ans.Duplicate+ans.Rejected != 0 {
		t.Fatalf("an empty batch: %d %+v", status, ans)
	}
	ids := inboxIDs(t, b.state)
	if len(ids) != 64+16+3 {
		t.Fatalf("the inbox holds %d ids, want %d", len(ids), 64+16+3)
	}
	for id, n := range ids {
		if n != 1 {
			t.Fatalf("%s stored %d times", id, n)
		}
	}
	// The batched alerts fold like single ones.
	b.sync(t)
	if inc := b.incidents(t); len(inc) != 1 || inc[0].Occurrences != 64+16+3 {
		t.Fatalf("incidents = %+v", inc)
	}
}

func TestMixedBatchesStoreTheValidAlertsAndNameTheRest(t *testing.T) {
	b := setup(t)
	valid := testAlerts(nil, 1, 3)
	entry := func(a world.Alert) string { raw, _ := json.Marshal(a); return string(raw) }
	body := "[" + strings.Join([]string{
		entry(valid[0]),
		`7`,
		`{"deviceId":"YG-1","type":"SMOKE"}`,
		entry(valid[1]),
		`{"alertId":12,"deviceId":"YG-1"}`,
		`null`,
		`"AL1"`,
		entry(valid[2]),
		entry(valid[0]),
	}, ",") + "]"
	var status int
	var msg string
	got := counted(func() { status, msg = b.post(t, b.pusher.URL, []byte(body)) })
	var ans sim.BatchAnswer
	json.Unmarshal([]byte(msg), &ans)
	want := map[int]string{1: "不是告警：应为 JSON 对象", 2: "缺少告警编号 alertId", 4: "不是告警：字段 alertId 的类型不对", 5: "不是告警：应为 JSON 对象", 6: "不是告警：应为 JSON 对象"}
	if status != http.StatusOK || ans.Accepted != 3 || ans.Duplicate != 1 || ans.Rejected != 5 || len(ans.Rejects) != 5 ||
		ans.Message != "共 9 条：接收 3 条，重复 1 条，拒收 5 条" || got["accepted"] != 3 || got["duplicate"] != 1 || got["malformed"] != 5 {
		t.Fatalf("a mixed batch: %d %s, counted %v", status, msg, got)
	}
	for _, r := range ans.Rejects {
		if want[r.Index] != r.Reason {
			t.Errorf("entry %d refused as %q, want %q", r.Index, r.Reason, want[r.Index])
		}
	}
	if ids := inboxIDs(t, b.state); len(ids) != 3 || ids[valid[0].AlertID] != 1 || ids[valid[1].AlertID] != 1 || ids[valid[2].AlertID] != 1 {
		t.Fatalf("inbox %v", ids)
	}

	// Nothing valid: 400 with the count; not an array, or too many: refused whole.
	for name, tc := range map[string]struct {
		body   string
		status int
		msg    string
	}{
		"all rejected":   {`[1, {}]`, http.StatusBadRequest, `"error":"推送中没有可接收的告警。共 2 条：接收 0 条，重复 0 条，拒收 2 条"`},
		"not an array":   {`[` + entry(valid[0]) + `,`, http.StatusBadRequest, "推送内容不是告警数组"},
		"too many":       {"[" + strings.Repeat("{},", 1000) + "{}]", http.StatusRequestEntityTooLarge, "一次推送最多 1000 条告警，本次 1001 条"},
		"too many bytes": {`[{"alertId":"AL9","detail":"` + strings.Repeat("x", 1<<20) + `"}]`, http.StatusRequestEntityTooLarge, "推送内容过大，上限为 1048576 字节"},
	} {
		before := len(inboxIDs(t, b.state))
		if status, msg := b.post(t, b.pusher.URL, []byte(tc.body)); status != tc.status || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %d %s, want %d %s", name, status, msg, tc.status, tc.msg)
		}
		if after := len(inboxIDs(t, b.state)); after != before {
			t.Errorf("%s: stored %d alerts", name, after-before)
		}
	}
}

func TestBatchesMustBeSigned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body, _ := json.Marshal(testAlerts(nil, 1, 8))
	now := time.Now()
	ts, _ := sim.Sign(b.county.Secret, body, now)
	oldTs, oldSig := sim.Sign(b.county.Secret, body, now.Add(-time.Hour))
	_, wrongSig := sim.Sign("another secret", body, now)
	_, otherBodySig := sim.Sign(b.county.Secret, body[:len(body)-1], now)
	for name, tc := range map[string]struct{ ts, sig string }{
		"unsigned":       {"", ""},
		"wrong key":      {ts, wrongSig},
		"old timestamp":  {oldTs, oldSig},
		"another body's": {ts, otherBodySig},
	} {
		req, _ := http.NewRequest(http.MethodPost, b.pusher.URL, strings.NewReader(string(body)))
		if tc.ts != "" {
			req.Header.Set("X-Timestamp", tc.ts)
			req.Header.Set("X-Signature", tc.sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
	if n := len(inboxIDs(t, b.state)); n != 0 {
		t.Fatalf("badly signed batches stored %d alerts", n)
	}
	if status, _ := b.post(t, b.pusher.URL, body); status != http.StatusOK || len(inboxIDs(t, b.state)) != 8 {
		t.Fatalf("the signed batch: %d", status)
	}
}

// startWebhook serves a connector's webhook over a state file at path.
func startWebhook(t testing.TB, path, secret string) (*httptest.Server, *connectors.State) {
	t.Helper()
	st, err := connectors.OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	hook := httptest.NewServer(New(Config{WebhookSecret: secret}, st, nil))
	t.Cleanup(func() { hook.Close(); st.Close() })
	return hook, st
}

func TestConcurrentSendersAreAllDurable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	hook, st := startWebhook(t, path, "s")
	// 16 senders at once, half alone and half in batches of 16, each alert sent
	// twice (once by its own sender, once by the next), 100 alerts each.
	const senders, each = 16, 100
	pusher := &sim.Pusher{URL: hook.URL, Secret: "s", Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}}
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for s := range senders {
		wg.Go(func() {
			for _, first := range []int{s * each, (s + 1) % senders * each} {
				alerts := testAlerts(nil, first, each)
				for i := 0; i < each; i += 16 {
					part := alerts[i:min(i+16, each)]
					if s%2 == 0 {
						status, ans, err := pusher.PushBatch(context.Background(), part)
						if err != nil || status != http.StatusOK || ans.Accepted+ans.Duplicate != len(part) {
							errs <- fmt.Errorf("sender %d: %d %+v %v", s, status, ans, err)
							return
						}
						continue
					}
					for _, a := range part {
						if status, err := pusher.Push(context.Background(), a); err != nil || status != http.StatusAccepted && status != http.StatusOK {
							errs <- fmt.Errorf("sender %d: %d %v", s, status, err)
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Every alert is on disk once: closed and opened again, the inbox holds each.
	hook.Close()
	st.Close()
	st, err := connectors.OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids := inboxIDs(t, st)
	for _, a := range testAlerts(nil, 0, senders*each) {
		if ids[a.AlertID] != 1 {
			t.Fatalf("%s stored %d times", a.AlertID, ids[a.AlertID])
		}
	}
	if len(ids) != senders*each {
		t.Fatalf("the inbox holds %d ids, want %d", len(ids), senders*each)
	}
}
