package sim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"fengqiao/tools/world"
)

// Alerts simulates the perception platform (感知平台) of smoke sensors and video
// analytics: a device registry the hub pulls (API key, page/size), and alerts it
// pushes to the hub's webhook, each signed with HMAC-SHA256 over
// "<timestamp>.<body>".
type Alerts struct {
	faultSwitch
	APIKey  string
	devices []*world.Device
	seq     atomic.Int64
}

// NewAlerts serves the world's devices. Alerts are numbered on from the
// milliseconds of the day, so that a restarted platform does not reuse the
// numbers it gave before (the hub drops an alert whose number it has seen).
func NewAlerts(w *world.World, apiKey string) *Alerts {
	a := &Alerts{APIKey: apiKey, devices: w.Devices}
	y, m, d := time.Now().In(world.CST).Date()
	a.seq.Store(time.Since(time.Date(y, m, d, 0, 0, 0, 0, world.CST)).Milliseconds())
	return a
}

// Devices returns the registered devices.
func (a *Alerts) Devices() []*world.Device { return a.devices }

// Handler returns the platform's device registry API.
func (a *Alerts) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /iot/api/v1/devices", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != a.APIKey {
			a.writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 401, "msg": "无效的API Key"})
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		if page < 1 || size < 1 || size > 1000 {
			a.writeJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "msg": "分页参数错误"})
			return
		}
		from := min((page-1)*size, len(a.devices))
		list := a.devices[from:min(from+size, len(a.devices))]
		a.writeJSON(w, http.StatusOK, map[string]any{"code": 0, "data": map[string]any{"total": len(a.devices), "list": list}})
	})
	return a.wrap(mux)
}

// Alert makes an alert of a device, numbered by the platform.
func (a *Alerts) Alert(d *world.Device, alertType, signal string, t time.Time) world.Alert {
	return world.NewAlert(d, alertType, signal, t, int(a.seq.Add(1)))
}

// Pusher posts alerts to a webhook, signed as the platform signs them.
type Pusher struct {
	URL    string
	Secret string
	Client *http.Client
	// Batch is how many alerts Storm posts per request, as one JSON array; 0 or 1
	// posts each alert alone, as a JSON object.
	Batch int
}

// Sign returns the signature headers of a body sent at t.
func Sign(secret string, body []byte, t time.Time) (timestamp, signature string) {
	timestamp = strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	return timestamp, hex.EncodeToString(mac.Sum(nil))
}

// Push posts one alert and returns the webhook's status.
func (p *Pusher) Push(ctx context.Context, a world.Alert) (int, error) {
	body, _ := json.Marshal(a)
	status, _, err := p.post(ctx, body)
	return status, err
}

// BatchAnswer is the webhook's answer to a batch.
type BatchAnswer struct {
	Message, Error                string
	Accepted, Duplicate, Rejected int
	Rejects                       []struct {
		Index   int
		AlertID string
		Reason  string
	}
}

// PushBatch posts alerts as one batch and returns the webhook's status and, when
// it answered with one, its count of the batch.
func (p *Pusher) PushBatch(ctx context.Context, alerts []world.Alert) (int, BatchAnswer, error) {
	body, _ := json.Marshal(alerts)
	var ans BatchAnswer
	status, resp, err := p.post(ctx, body)
	if err == nil {
		json.Unmarshal(resp, &ans)
	}
	return status, ans, err
}

// post sends a signed body and returns the status and the body of the answer.
func (p *Pusher) post(ctx context.Context, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	ts, sig := Sign(p.Secret, body, time.Now())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Timestamp", ts)
	req.Header.Set("X-Signature", sig)
	client := p.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, answer, err
}

// StormResult is what a storm achieved.
type StormResult struct {
	Sent, Accepted int // alerts; Accepted counts those stored or already known
	Elapsed        time.Duration
}

// Storm pushes n alarms from the given devices as fast as workers can, the way a
// burst of sensors misfiring does: the same few devices, over and over; Batch
// alarms per request.
func (p *Pusher) Storm(ctx context.Context, a *Alerts, devices []*world.Device, n, workers int) (StormResult, error) {
	var sent, accepted atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	per := max(p.Batch, 1)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			// Worker w sends the requests w, w+workers, …, each of per alarms.
			for from := w * per; from < n && ctx.Err() == nil; from += workers * per {
				batch := make([]world.Alert, 0, per)
				for i := from; i < min(from+per, n); i++ {
					d := devices[i%len(devices)]
					batch = append(batch, a.Alert(d, world.AlertTypes[d.Kind][0], "ALARM", time.Now()))
				}
				var status, ok int
				var err error
				if p.Batch > 1 {
					var ans BatchAnswer
					status, ans, err = p.PushBatch(ctx, batch)
					ok = ans.Accepted + ans.Duplicate
				} else {
					status, err = p.Push(ctx, batch[0])
					ok = 1
				}
				sent.Add(int64(len(batch)))
				if err != nil {
					once.Do(func() { firstErr = err })
					continue
				}
				if status == http.StatusAccepted || status == http.StatusOK {
					accepted.Add(int64(ok))
				}
			}
		})
	}
	wg.Wait()
	return StormResult{Sent: int(sent.Load()), Accepted: int(accepted.Load()), Elapsed: time.Since(start)}, firstErr
}

// Live pushes an alert from a random device every interval until ctx ends; a
// smoke alarm is followed by its recovery a little later, as a real one is.
func (p *Pusher) Live(ctx context.Context, a *Alerts, interval time.Duration) {
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		d := a.devices[rnd.IntN(len(a.devices))]
		types := world.AlertTypes[d.Kind]
		t := types[rnd.IntN(len(types))]
		for range 1 + rnd.IntN(4) {
			p.Push(ctx, a.Alert(d, t, "ALARM", time.Now()))
		}
		if t == "SMOKE" {
			time.AfterFunc(interval*3, func() { p.Push(context.Background(), a.Alert(d, t, "RECOVER", time.Now())) })
		}
	}
}
