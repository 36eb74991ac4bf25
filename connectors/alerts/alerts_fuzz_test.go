package alerts

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fengqiao/connectors"
	"fengqiao/tools/sim"
)

// FuzzWebhook sends the webhook any body with any signature headers: it never
// panics, refuses what is not signed with the secret, and a body signed now is
// stored exactly once if it is an alert within the size bound (resends are
// answered 200 and stored no more), and refused otherwise; a batch (a JSON array)
// stores each of its alerts once and counts the rest.
func FuzzWebhook(f *testing.F) {
	const secret = "fuzz secret"
	st, err := connectors.OpenState(filepath.Join(f.TempDir(), "state.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	c := New(Config{WebhookSecret: secret, MaxBodyBytes: 4 << 10}, st, nil)

	sample := `{"alertId":"AL2026112800000001","deviceId":"YG-331081102245-00002","type":"SMOKE","signal":"ALARM","time":1764300000000,"detail":"烟雾浓度超过阈值"}`
	ts, sig := sim.Sign(secret, []byte(sample), time.Unix(1764300000, 0)) // long expired
	for _, seed := range []struct{ body, ts, sig string }{
		{sample, ts, sig},
		{sample, "", ""},
		{sample, ts, strings.Repeat("0", 64)},
		{sample, ts, strings.ToUpper(sig)},
		{`{"alertId":"AL2","deviceId":"D","type":"DROWNING","signal":"RECOVER","time":1}`, "1764300000", "x"},
		{`{"alertId":""}`, "", ""},
		{`{"alertId":7}`, "-1", ""},
		{`[]`, "9999999999999999999", sig},
		{"not json", "1.5", sig},
		{`{"alertId":"AL3","detail":"` + strings.Repeat("长", 2000) + `"}`, ts, sig},
		{"", "", ""},
		{"[" + sample + `,7,{"alertId":"AL4"},null,` + sample + "]", ts, sig},
		{` [{"alertId":"AL5","time":"x"},{"alertId":"AL6"}]`, ts, sig},
		{`[{"alertId":"AL7"},`, ts, sig},
	} {
		f.Add([]byte(seed.body), seed.ts, seed.sig)
	}

	stored := map[string]bool{} // alert ids stored so far
	f.Fuzz(func(t *testing.T, body []byte, ts, sig string) {
		serve := func(ts, sig string) int {
			req := httptest.NewRequest(http.MethodPost, "/webhooks/alerts", bytes.NewReader(body))
			req.Header.Set("X-Timestamp", ts)
			req.Header.Set("X-Signature", sig)
			rec := httptest.NewRecorder()
			c.ServeHTTP(rec, req)
			return rec.Code
		}
		queued := func() int {
			n, err := st.Len(inbox)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		// As sent: anything not signed with the secret is refused and not stored.
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts + "."))
		mac.Write(body)
		before := queued()
		if status := serve(ts, sig); !hmac.Equal([]byte(sig), []byte(hex.EncodeToString(mac.Sum(nil)))) && (status < 400 || queued() != before) {
			t.Fatalf("badly signed push answered %d, %d stored", status, queued()-before)
		}

		// Signed now: stored once if it is an alert within the bound; a batch's
		// alerts each once, the rest of it refused.
		ts, sig = sim.Sign(secret, body, time.Now())
		if isBatch(body) {
			fuzzBatch(t, body, stored, queued, func() (int, []byte) {
				req := httptest.NewRequest(http.MethodPost, "/webhooks/alerts", bytes.NewReader(body))
				req.Header.Set("X-Timestamp", ts)
				req.Header.Set("X-Signature", sig)
				rec := httptest.NewRecorder()
				c.ServeHTTP(rec, req)
				return rec.Code, rec.Body.Bytes()
			})
			return
		}
		var a alert
		want, grows := http.StatusAccepted, 1
		switch {
		case len(body) > 4<<10:
			want, grows = http.StatusRequestEntityTooLarge, 0
		case json.Unmarshal(body, &a) != nil || a.AlertID == "":
			want, grows = http.StatusBadRequest, 0
		case stored[a.AlertID]:
			want, grows = http.StatusOK, 0
		}
		before = queued()
		if status := serve(ts, sig); status != want || queued()-before != grows {
			t.Fatalf("signed push answered %d (want %d), %d stored (want %d)", status, want, queued()-before, grows)
		}
		if want == http.StatusAccepted || want == http.StatusOK {
			stored[a.AlertID] = true
			if status := serve(ts, sig); status != http.StatusOK || queued() != before+grows {
				t.Fatalf("resent push answered %d, stored again", status)
			}
		}
	})
}

// fuzzBatch checks a signed batch (bound 64 KiB, 1000 alerts): each alert of it
// not stored before is stored once, the answer counts what it stored, what it
// knew and what it refused, and sent again it stores nothing more.
func fuzzBatch(t *testing.T, body []byte, stored map[string]bool, queued func() int, serve func() (int, []byte)) {
	var entries []json.RawMessage
	var want batchAnswer
	wantStatus := http.StatusOK
	switch {
	case len(body) > 64<<10:
		wantStatus = http.StatusRequestEntityTooLarge
	case json.Unmarshal(body, &entries) != nil:
		wantStatus = http.StatusBadRequest
	case len(entries) > 1000:
		wantStatus = http.StatusRequestEntityTooLarge
	default:
		for _, e := range entries {
			var a alert
			switch {
			case json.Unmarshal(e, &a) != nil || a.AlertID == "":
				want.Rejected++
			case stored[a.AlertID]:
				want.Duplicate++ // known before, or earlier in the batch
			default:
				want.Accepted++
				stored[a.AlertID] = true
			}
		}
		if len(entries) > 0 && want.Rejected == len(entries) {
			wantStatus = http.StatusBadRequest
		}
	}
	for round := range 2 {
		before := queued()
		status, raw := serve()
		var got batchAnswer
		json.Unmarshal(raw, &got)
		if status != wantStatus || queued()-before != want.Accepted ||
			status != http.StatusRequestEntityTooLarge && len(entries) > 0 && (got.Accepted != want.Accepted || got.Duplicate != want.Duplicate || got.Rejected != want.Rejected || len(got.Rejects) != want.Rejected) {
			t.Fatalf("signed batch (round %d) answered %d %s (want %d %+v), %d stored", round, status, raw, wantStatus, want, queued()-before)
		}
		want.Duplicate, want.Accepted = want.Duplicate+want.Accepted, 0
	}
}
