package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/search"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

type testBundle struct {
	dir    string
	county *sim.County
	conn   *Connector
	runner *connectors.Runner
	index  *search.Bleve
	state  *connectors.State
	pusher *sim.Pusher
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	w := world.Generate(world.Config{Seed: 9, Scale: 0.003, End: time.Now()})
	county, err := sim.StartCounty(w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(county.Close)
	dir := t.TempDir()
	idx, err := search.OpenBleve(filepath.Join(dir, "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := connectors.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close(); st.Close() })
	c := New(Config{BaseURL: county.URL["alerts"], APIKey: county.Secret, WebhookSecret: county.Secret, Window: 10 * time.Minute}, st, nil)
	r := &connectors.Runner{Tree: w.Tree, Index: idx, State: st}
	r.Add(c)
	hook := httptest.NewServer(c)
	t.Cleanup(hook.Close)
	return &testBundle{dir: dir, county: county, conn: c, runner: r, index: idx, state: st,
		pusher: &sim.Pusher{URL: hook.URL, Secret: county.Secret}}
}

func (b *testBundle) push(t *testing.T, alerts ...world.Alert) {
	t.Helper()
	for _, a := range alerts {
		status, err := b.pusher.Push(context.Background(), a)
		if err != nil || status != http.StatusAccepted {
			t.Fatalf("push %s: %d %v", a.AlertID, status, err)
		}
	}
}

func (b *testBundle) sync(t *testing.T) {
	t.Helper()
	if err := b.runner.SyncUntilCaughtUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) incidents(t *testing.T) []*fengqiao.Event {
	t.Helper()
	page, err := b.index.Search(context.Background(), fengqiao.EventQuery{First: 100, Filter: fengqiao.EventFilter{Sources: []fengqiao.Source{fengqiao.SourceAlert}}})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

func TestPushesMustBeSigned(t *testing.T) {
	b := setup(t)
	d := b.county.Alerts.Devices()[0]
	body := []byte(`{"alertId":"A1","deviceId":"` + d.DeviceID + `","type":"SMOKE","signal":"ALARM","time":1}`)
	post := func(ts, sig string) int {
		req, _ := http.NewRequest(http.MethodPost, b.pusher.URL, bytes.NewReader(body))
		if ts != "" {
			req.Header.Set("X-Timestamp", ts)
			req.Header.Set("X-Signature", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	before := map[string]float64{}
	for _, o := range []string{"unsigned", "bad_signature", "stale", "accepted"} {
		before[o] = testutil.ToFloat64(webhookTotal.WithLabelValues(o))
	}
	now := time.Now()
	ts, sig := sim.Sign(b.county.Secret, body, now)
	oldTs, oldSig := sim.Sign(b.county.Secret, body, now.Add(-time.Hour))
	_, wrongSig := sim.Sign("another secret", body, now)
	for name, tc := range map[string]struct {
		ts, sig, outcome string
		status           int
	}{
		"unsigned":      {"", "", "unsigned", http.StatusUnauthorized},
		"wrong key":     {ts, wrongSig, "bad_signature", http.StatusUnauthorized},
		"old timestamp": {oldTs, oldSig, "stale", http.StatusUnauthorized},
		"signed":        {ts, sig, "accepted", http.StatusAccepted},
	} {
		if got := post(tc.ts, tc.sig); got != tc.status {
			t.Errorf("%s: status %d, want %d", name, got, tc.status)
		}
		if n := testutil.ToFloat64(webhookTotal.WithLabelValues(tc.outcome)) - before[tc.outcome]; n != 1 {
			t.Errorf("%s: counted %v times as %s", name, n, tc.outcome)
		}
	}
}

func TestRepeatedAlarmsFoldIntoIncidents(t *testing.T) {
	b := setup(t)
	devices := b.county.Alerts.Devices()
	var smoke *world.Device
	for _, d := range devices {
		if d.Kind == "SMOKE_SENSOR" {
			smoke = d
			break
		}
	}
	t0 := time.Now().Add(-time.Hour)
	a := b.county.Alerts
	// Five alarms within the window, then a recovery: one incident of five, closed.
	before := indexedRecords(t)
	for i := range 5 {
		b.push(t, a.Alert(smoke, "SMOKE", "ALARM", t0.Add(time.Duration(i)*time.Minute)))
		if i == 2 {
			b.sync(t) // the incident is indexed twice, once per batch: five alerts all the same
		}
	}
	b.sync(t)
	if n := indexedRecords(t) - before; n != 5 {
		t.Errorf("fengqiao_connector_records_total{connector=\"alerts\",outcome=\"indexed\"} grew by %v for five alerts, want 5", n)
	}
	got := b.incidents(t)
	if len(got) != 1 || got[0].Occurrences != 5 || got[0].Status != fengqiao.StatusInProgress || got[0].OrgCode != smoke.GridCode {
		t.Fatalf("after five alarms: %+v", got)
	}
	b.push(t, a.Alert(smoke, "SMOKE", "RECOVER", t0.Add(6*time.Minute)))
	b.sync(t)
	got = b.incidents(t)
	if len(got) != 1 || got[0].Status != fengqiao.StatusResolved || got[0].ResolvedAt == nil || got[0].Occurrences != 5 {
		t.Fatalf("after recovery: %+v", got)
	}
	// An alarm after the recovery, and one past the window, open new incidents.
	b.push(t, a.Alert(smoke, "SMOKE", "ALARM", t0.Add(7*time.Minute)), a.Alert(smoke, "SMOKE", "ALARM", t0.Add(30*time.Minute)))
	b.sync(t)
	if got = b.incidents(t); len(got) != 3 {
		t.Fatalf("want 3 incidents, got %d", len(got))
	}

	// An alert from a device the registry does not list is kept in quarantine.
	ghost := &world.Device{DeviceID: "YG-000000000000-99999", Kind: "SMOKE_SENSOR"}
	b.push(t, a.Alert(ghost, "SMOKE", "ALARM", t0))
	b.sync(t)
	q, _ := b.state.Quarantine("alerts")
	if len(q) != 1 || q[0].Reason != "未登记的设备："+ghost.DeviceID {
		t.Fatalf("quarantine = %+v", q)
	}
}

func TestReplayAfterACrashDoesNotCountTwice(t *testing.T) {
	b := setup(t)
	d := b.county.Alerts.Devices()[1]
	typ := world.AlertTypes[d.Kind][0]
	t0 := time.Now().Add(-time.Hour)
	for i := range 4 {
		b.push(t, b.county.Alerts.Alert(d, typ, "ALARM", t0.Add(time.Duration(i)*time.Second)))
	}
	// The connector folds the batch twice from the same cursor, as it does when the
	// hub died before committing the first time.
	ctx := context.Background()
	first, err := b.conn.Sync(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.conn.Sync(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Events) != 1 || len(again.Events) != 1 || again.Events[0].Occurrences != 4 || again.Next != first.Next {
		t.Fatalf("first %+v, replay %+v", first.Events, again.Events)
	}
	// Committed, then more alarms, one past the window, the batch replayed twice:
	// both incidents come out with the right counts each time.
	b.push(t, b.county.Alerts.Alert(d, typ, "ALARM", t0.Add(5*time.Second)), b.county.Alerts.Alert(d, typ, "ALARM", t0.Add(30*time.Minute)))
	for range 2 {
		next, err := b.conn.Sync(ctx, first.Next)
		if err != nil {
			t.Fatal(err)
		}
		if len(next.Events) != 2 || next.Events[0].Occurrences != 5 || next.Events[1].Occurrences != 1 {
			t.Fatalf("after the commit: %+v", next.Events)
		}
	}
}

func TestAlertStormIsAbsorbed(t *testing.T) {
	b := setup(t)
	devices := b.county.Alerts.Devices()[:10]
	const n = 2000
	res, err := b.pusher.Storm(context.Background(), b.county.Alerts, devices, n, 16)
	if err != nil || res.Accepted != n {
		t.Fatalf("storm: %+v, %v", res, err)
	}
	b.sync(t)
	total := 0
	for _, e := range b.incidents(t) {
		total += e.Occurrences
	}
	if got := len(b.incidents(t)); got != len(devices) || total != n {
		t.Fatalf("%d alerts became %d incidents counting %d; want %d incidents counting %d", n, got, total, len(devices), n)
	}
	if left, _ := b.state.Len(inbox); left > 0 {
		// Trimmed at the next sync, once the cursor is committed.
		b.sync(t)
		if left, _ = b.state.Len(inbox); left != 0 {
			t.Fatalf("%d alerts left in the inbox", left)
		}
	}
}

// post sends a body signed as the platform signs it now, and returns the status
// and the message of the answer.
func (b *testBundle) post(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	ts, sig := sim.Sign(b.county.Secret, body, time.Now())
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("X-Timestamp", ts)
	req.Header.Set("X-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

// counted returns how a push changes the webhook's counters.
func counted(push func()) map[string]float64 {
	outcomes := []string{"accepted", "duplicate", "too_large", "unsigned", "bad_signature", "stale", "malformed"}
	before := map[string]float64{}
	for _, o := range outcomes {
		before[o] = testutil.ToFloat64(webhookTotal.WithLabelValues(o))
	}
	push()
	diff := map[string]float64{}
	for _, o := range outcomes {
		if n := testutil.ToFloat64(webhookTotal.WithLabelValues(o)) - before[o]; n != 0 {
			diff[o] = n
		}
	}
	return diff
}

func TestResentAlertsCountOnceEvenAfterARestart(t *testing.T) {
	b := setup(t)
	d := b.county.Alerts.Devices()[0]
	body, _ := json.Marshal(b.county.Alerts.Alert(d, world.AlertTypes[d.Kind][0], "ALARM", time.Now().Add(-time.Minute)))
	ts, sig := sim.Sign(b.county.Secret, body, time.Now())
	send := func(url string) int {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("X-Timestamp", ts)
		req.Header.Set("X-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var statuses []int
	got := counted(func() {
		for range 3 {
			statuses = append(statuses, send(b.pusher.URL))
		}
	})
	if !slices.Equal(statuses, []int{http.StatusAccepted, http.StatusOK, http.StatusOK}) || got["accepted"] != 1 || got["duplicate"] != 2 || len(got) != 2 {
		t.Fatalf("the same body three times: statuses %v, counted %v", statuses, got)
	}
	b.sync(t)
	if inc := b.incidents(t); len(inc) != 1 || inc[0].Occurrences != 1 {
		t.Fatalf("incidents = %+v", inc)
	}

	// The hub restarts: the same body, and the same alert signed anew, are still
	// known.
	b.state.Close()
	st, err := connectors.OpenState(filepath.Join(b.dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hook := httptest.NewServer(New(Config{WebhookSecret: b.county.Secret}, st, nil))
	t.Cleanup(hook.Close)
	queued, _ := st.Len(inbox)
	var again int
	got = counted(func() {
		statuses = []int{send(hook.URL)}
		again, _ = b.post(t, hook.URL, body)
	})
	if statuses[0] != http.StatusOK || again != http.StatusOK || got["duplicate"] != 2 || len(got) != 1 {
		t.Fatalf("after a restart: statuses %d and %d, counted %v", statuses[0], again, got)
	}
	if n, _ := st.Len(inbox); n != queued {
		t.Fatalf("the resends after the restart queued %d alerts", n-queued)
	}
}

func TestOversizedPushesAreRefusedAsSuch(t *testing.T) {
	b := setup(t)
	d := b.county.Alerts.Devices()[0]
	a := b.county.Alerts.Alert(d, world.AlertTypes[d.Kind][0], "ALARM", time.Now())
	sized := func(n int) []byte {
		a.Detail = ""
		empty, _ := json.Marshal(a)
		a.Detail = strings.Repeat("x", n-len(empty))
		body, _ := json.Marshal(a)
		return body
	}
	var status int
	var msg string
	got := counted(func() { status, msg = b.post(t, b.pusher.URL, sized(1<<20)) })
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "推送内容过大") || !strings.Contains(msg, "65536 字节") || got["too_large"] != 1 || len(got) != 1 {
		t.Fatalf("a signed 1 MB alert: %d %s, counted %v", status, msg, got)
	}
	if status, msg = b.post(t, b.pusher.URL, sized(64<<10)); status != http.StatusAccepted {
		t.Fatalf("a signed alert of exactly 64 KiB: %d %s", status, msg)
	}
}

func TestFutureDatedAlertsAreQuarantined(t *testing.T) {
	b := setup(t)
	d := b.county.Alerts.Devices()[2]
	typ := world.AlertTypes[d.Kind][0]
	b.push(t, b.county.Alerts.Alert(d, typ, "ALARM", time.Date(2099, 1, 1, 0, 0, 0, 0, world.CST)))
	b.sync(t)
	b.push(t, b.county.Alerts.Alert(d, typ, "ALARM", time.Now()))
	b.sync(t)
	q, _ := b.state.Quarantine("alerts")
	if len(q) != 1 || !strings.Contains(q[0].Reason, "告警时间 2099-01-01 00:00:00 晚于当前时间") {
		t.Fatalf("quarantine = %+v", q)
	}
	if inc := b.incidents(t); len(inc) != 1 || inc[0].Occurrences != 1 || inc[0].UpdatedAt.After(time.Now()) {
		t.Fatalf("incidents = %+v", inc)
	}
}

// indexedRecords reads fengqiao_connector_records_total{connector="alerts",outcome="indexed"}.
func indexedRecords(t *testing.T) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "fengqiao_connector_records_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["connector"] == "alerts" && labels["outcome"] == "indexed" {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatal("no fengqiao_connector_records_total for alerts")
	return 0
}
