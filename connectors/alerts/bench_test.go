package alerts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fengqiao/tools/sim"
)

// benchSeq numbers the alerts of every benchmark run, so none is a duplicate.
var benchSeq atomic.Int64

// BenchmarkWebhook measures the alerts the webhook accepts per second over
// loopback HTTP into a real state file (synced at every commit), from 1, 8 and 16
// senders, each alert alone or 64 to a request. The bodies are made and signed
// before the clock starts; the senders' HTTP client runs on the same cores.
//
//	go test -run '^$' -bench Webhook -benchtime 20000x ./connectors/alerts
func BenchmarkWebhook(b *testing.B) {
	for _, batch := range []int{1, 64} {
		for _, senders := range []int{1, 8, 16} {
			b.Run(fmt.Sprintf("batch=%d/senders=%d", batch, senders), func(b *testing.B) {
				benchWebhook(b, senders, batch)
			})
		}
	}
}

func benchWebhook(b *testing.B, senders, batch int) {
	hook, st := startWebhook(b, filepath.Join(b.TempDir(), "state.db"), "s")
	// b.N alerts, in requests of batch.
	var bodies [][]byte
	var sigs [][2]string
	for from := 0; from < b.N; from += batch {
		alerts := testAlerts(nil, int(benchSeq.Add(int64(batch)))-batch, min(batch, b.N-from))
		var body []byte
		if batch == 1 {
			body, _ = json.Marshal(alerts[0])
		} else {
			body, _ = json.Marshal(alerts)
		}
		ts, sig := sim.Sign("s", body, time.Now())
		bodies, sigs = append(bodies, body), append(sigs, [2]string{ts, sig})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range senders {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(bodies); i = int(next.Add(1)) - 1 {
				req, _ := http.NewRequest(http.MethodPost, hook.URL, bytes.NewReader(bodies[i]))
				req.Header.Set("X-Timestamp", sigs[i][0])
				req.Header.Set("X-Signature", sigs[i][1])
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n, _ := st.Len(inbox); n != b.N {
		b.Fatalf("%d alerts stored, want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "alerts/s")
	b.ReportMetric(float64(len(bodies))/elapsed.Seconds(), "req/s")
}
