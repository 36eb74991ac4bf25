// Package alerts connects the perception platform (感知警情: smoke sensors, video
// analytics). The platform pushes alerts to a webhook, one or a batch per push,
// each push signed with HMAC-SHA256; the webhook stores them durably, the pushes
// arriving together in one transaction, and answers at once, so a storm costs the
// rest of the hub little. Sync then drains the stored alerts in batches
// and folds repeated alarms of one device and condition within a window into one
// incident with a count; a recovery signal closes it. Devices come from the
// platform's registry; an alert from a device it does not list is quarantined.
package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"fengqiao"
	"fengqiao/connectors"
)

// Config configures the connector.
type Config struct {
	// BaseURL and APIKey reach the device registry.
	BaseURL string `json:"baseURL"`
	APIKey  string `json:"apiKey"`
	// WebhookSecret is the HMAC key the platform signs pushes with.
	WebhookSecret string `json:"webhookSecret"`
	// Window is how long after the last alarm a repeat still joins the incident. Default 30m.
	Window time.Duration `json:"window"`
	// BatchSize is how many stored alerts one sync folds. Default 2000.
	BatchSize int `json:"batchSize"`
	// DeviceRefresh is how often the device registry is read again. Default 10m.
	DeviceRefresh time.Duration `json:"deviceRefresh"`
	// MaxBodyBytes bounds a push of one alert; a larger one is answered 413. A
	// batch may be 16 times as large (1 MiB by default). Default 64 KiB.
	MaxBodyBytes int64 `json:"maxBodyBytes"`
	// MaxBatchAlerts bounds the alerts of one batch; a batch of more is answered
	// 413. Default 1000.
	MaxBatchAlerts int `json:"maxBatchAlerts"`
	// DedupWindow is how long an alert id is remembered: a push of an id received
	// within it is answered 200 and dropped. Default 24h; never less than the 10
	// minutes a signed push stays acceptable.
	DedupWindow time.Duration             `json:"dedupWindow"`
	Upstream    connectors.UpstreamConfig `json:"upstream"`
}

// Connector receives and folds alerts.
type Connector struct {
	connectors.Base
	cfg   Config
	state *connectors.State
	wake  chan struct{}

	mu        sync.Mutex
	devices   map[string]device
	devicesAt time.Time
}

var (
	_ fengqiao.Webhook = (*Connector)(nil)
	_ fengqiao.Waker   = (*Connector)(nil)
)

const (
	inbox     = "alerts/inbox"     // pushed alerts, by arrival sequence
	incidents = "alerts/incidents" // the latest incident of each device and condition, and the cursor they are folded to
)

var webhookTotal = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "fengqiao_alert_webhook_total",
	Help: "Alerts pushed, by outcome (accepted, duplicate, too_large, unsigned, bad_signature, stale, malformed): each alert of a batch counts once, a push refused whole counts once.",
}, []string{"outcome"})

// New returns the connector; state stores the inbox and the open incidents.
func New(cfg Config, state *connectors.State, log *slog.Logger) *Connector {
	if cfg.Window <= 0 {
		cfg.Window = 30 * time.Minute
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 2000
	}
	if cfg.DeviceRefresh <= 0 {
		cfg.DeviceRefresh = 10 * time.Minute
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.MaxBatchAlerts <= 0 {
		cfg.MaxBatchAlerts = 1000
	}
	if cfg.DedupWindow <= 0 {
		cfg.DedupWindow = 24 * time.Hour
	}
	cfg.DedupWindow = max(cfg.DedupWindow, 2*maxClockSkew)
	return &Connector{cfg: cfg, state: state, wake: make(chan struct{}, 1),
		Base: connectors.NewBase("alerts", "感知警情（视频、烟感）", fengqiao.SourceAlert, cfg.Upstream, log)}
}

func init() {
	for _, o := range []string{"accepted", "duplicate", "too_large", "unsigned", "bad_signature", "stale", "malformed"} {
		webhookTotal.WithLabelValues(o) // every outcome at zero from the first scrape
	}
}

// WebhookPath implements fengqiao.Webhook.
func (c *Connector) WebhookPath() string { return "/webhooks/alerts" }

// Wake implements fengqiao.Waker.
func (c *Connector) Wake() <-chan struct{} { return c.wake }

// alert is a pushed alert.
type alert struct {
	AlertID  string `json:"alertId"`
	DeviceID string `json:"deviceId"`
	Type     string `json:"type"`
	Signal   string `json:"signal"`
	Time     int64  `json:"time"`
	Detail   string `json:"detail"`
	// ReceivedAt is when the webhook stored the alert (Unix ms), set by the hub.
	ReceivedAt int64 `json:"receivedAt,omitempty"`
}

type device struct {
	DeviceID string `json:"deviceId"`
	Kind     string `json:"kind"`
	GridCode string `json:"gridCode"`
	Address  string `json:"address"`
}

// maxClockSkew bounds how old or new a push's timestamp may be (replay defence).
const maxClockSkew = 5 * time.Minute

// ServeHTTP receives a push of one alert (a JSON object) or a batch (a JSON array
// of them), signed alike: 413 for a body over the bound of its form, 401 without
// a valid signature. One alert: 400 if the body is not an alert, 202 once it is
// stored, and 200 for an alert already received (the platform retrying), stored
// once. A batch: see serveBatch. Nothing is answered 2xx before the transaction
// holding it is on disk.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "只接受 POST", http.StatusMethodNotAllowed)
		return
	}
	body, now, ok := c.readSigned(w, r)
	if !ok {
		return
	}
	if isBatch(body) {
		c.serveBatch(w, body, now)
		return
	}
	var a alert
	if err := json.Unmarshal(body, &a); err != nil || a.AlertID == "" {
		webhookTotal.WithLabelValues("malformed").Inc()
		refuse(w, http.StatusBadRequest, "推送内容不是告警")
		return
	}
	enqueued, err := c.store([]alert{a}, now)
	switch {
	case err != nil:
		refuse(w, http.StatusServiceUnavailable, "暂存告警失败，请重试")
	case !enqueued[0]:
		webhookTotal.WithLabelValues("duplicate").Inc()
		answer(w, http.StatusOK, "message", "该告警已接收，重复推送不再计入")
	default:
		webhookTotal.WithLabelValues("accepted").Inc()
		w.WriteHeader(http.StatusAccepted)
	}
}

// batchBodyScale is how many times MaxBodyBytes a batch's body may be (1 MiB by
// default, the gateway's own bound).
const batchBodyScale = 16

// readSigned reads a push's body within the bound of its form and checks its
// signature and timestamp, answering the push itself when it is refused.
func (c *Connector) readSigned(w http.ResponseWriter, r *http.Request) (body []byte, now time.Time, ok bool) {
	// One byte more than the larger bound tells a body over it from one exactly at it.
	body, err := io.ReadAll(io.LimitReader(r.Body, batchBodyScale*c.cfg.MaxBodyBytes+1))
	limit := c.cfg.MaxBodyBytes
	if isBatch(body) {
		limit *= batchBodyScale
	}
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) || int64(len(body)) > limit {
		if tooBig != nil {
			limit = min(limit, tooBig.Limit) // the server's own bound is lower
		}
		webhookTotal.WithLabelValues("too_large").Inc()
		refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("推送内容过大，上限为 %d 字节", limit))
		return nil, now, false
	}
	if err != nil {
		http.Error(w, "读取请求失败", http.StatusBadRequest)
		return nil, now, false
	}
	ts, sig := r.Header.Get("X-Timestamp"), r.Header.Get("X-Signature")
	if ts == "" || sig == "" {
		webhookTotal.WithLabelValues("unsigned").Inc()
		refuse(w, http.StatusUnauthorized, "推送未签名")
		return nil, now, false
	}
	mac := hmac.New(sha256.New, []byte(c.cfg.WebhookSecret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	if !hmac.Equal([]byte(sig), []byte(hex.EncodeToString(mac.Sum(nil)))) {
		webhookTotal.WithLabelValues("bad_signature").Inc()
		refuse(w, http.StatusUnauthorized, "推送签名无效")
		return nil, now, false
	}
	now = time.Now()
	if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || math.Abs(now.Sub(time.Unix(sec, 0)).Seconds()) > maxClockSkew.Seconds() {
		webhookTotal.WithLabelValues("stale").Inc()
		refuse(w, http.StatusUnauthorized, "推送时间戳过期")
		return nil, now, false
	}
	return body, now, true
}

// isBatch reports whether a body is a batch: a JSON array.
func isBatch(body []byte) bool {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '['
}

// store puts alerts in the inbox, noting their arrival, in one transaction shared
// with the pushes arriving meanwhile, and reports which were new; it wakes the
// connector if any was.
func (c *Connector) store(alerts []alert, now time.Time) ([]bool, error) {
	items := make([]connectors.Item, len(alerts))
	for i, a := range alerts {
		a.ReceivedAt = now.UnixMilli()
		stored, _ := json.Marshal(a)
		items[i] = connectors.Item{Key: a.AlertID, Value: stored}
	}
	enqueued, err := c.state.Enqueue(inbox, items, now)
	if err == nil && slices.Contains(enqueued, true) {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	return enqueued, err
}

// batchAnswer is the answer to a batch: how many of its alerts were stored,
// already known, and refused, with the index and reason of each refused one.
type batchAnswer struct {
	Message   string        `json:"message,omitempty"`
	Error     string        `json:"error,omitempty"`
	Accepted  int           `json:"accepted"`
	Duplicate int           `json:"duplicate"`
	Rejected  int           `json:"rejected"`
	Rejects   []batchReject `json:"rejects,omitempty"`
}

type batchReject struct {
	Index   int    `json:"index"` // in the pushed array, from 0
	AlertID string `json:"alertId,omitempty"`
	Reason  string `json:"reason"`
}

// serveBatch stores the alerts of a batch, all in one transaction: 413 for more
// than MaxBatchAlerts, 400 for a body that is not a JSON array, 503 if the inbox
// could not be written (nothing of the batch is stored then). Otherwise each alert
// is accepted, a duplicate (an id received before, or earlier in the batch), or
// rejected with its reason, and the answer counts them: 200, or 400 if every alert
// was rejected. An empty batch is answered 200.
func (c *Connector) serveBatch(w http.ResponseWriter, body []byte, now time.Time) {
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		webhookTotal.WithLabelValues("malformed").Inc()
		refuse(w, http.StatusBadRequest, "推送内容不是告警数组")
		return
	}
	if len(raw) > c.cfg.MaxBatchAlerts {
		webhookTotal.WithLabelValues("too_large").Inc()
		refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("一次推送最多 %d 条告警，本次 %d 条", c.cfg.MaxBatchAlerts, len(raw)))
		return
	}
	var ans batchAnswer
	var valid []alert
	var at []int // the index in the batch of each valid alert
	for i, m := range raw {
		var a alert
		if reason := decodeAlert(m, &a); reason != "" {
			ans.Rejects = append(ans.Rejects, batchReject{Index: i, AlertID: a.AlertID, Reason: reason})
			continue
		}
		valid, at = append(valid, a), append(at, i)
	}
	enqueued, err := c.store(valid, now)
	if err != nil {
		refuse(w, http.StatusServiceUnavailable, "暂存告警失败，请重试")
		return
	}
	for _, e := range enqueued {
		if e {
			ans.Accepted++
		} else {
			ans.Duplicate++
		}
	}
	ans.Rejected = len(ans.Rejects)
	webhookTotal.WithLabelValues("accepted").Add(float64(ans.Accepted))
	webhookTotal.WithLabelValues("duplicate").Add(float64(ans.Duplicate))
	webhookTotal.WithLabelValues("malformed").Add(float64(ans.Rejected))
	status := http.StatusOK
	summary := fmt.Sprintf("共 %d 条：接收 %d 条，重复 %d 条，拒收 %d 条", len(raw), ans.Accepted, ans.Duplicate, ans.Rejected)
	if len(valid) == 0 && len(raw) > 0 {
		status, ans.Error = http.StatusBadRequest, "推送中没有可接收的告警。"+summary
	} else {
		ans.Message = summary
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(ans)
}

// decodeAlert decodes one alert of a batch, returning why it is refused, or "".
func decodeAlert(raw json.RawMessage, a *alert) (reason string) {
	if len(raw) == 0 || raw[0] != '{' {
		return "不是告警：应为 JSON 对象"
	}
	if err := json.Unmarshal(raw, a); err != nil {
		if typeErr := (*json.UnmarshalTypeError)(nil); errors.As(err, &typeErr) && typeErr.Field != "" {
			return fmt.Sprintf("不是告警：字段 %s 的类型不对", typeErr.Field)
		}
		return "不是告警"
	}
	if a.AlertID == "" {
		return "缺少告警编号 alertId"
	}
	return ""
}

func refuse(w http.ResponseWriter, status int, msg string) { answer(w, status, "error", msg) }

// answer writes {field: msg} with status.
func answer(w http.ResponseWriter, status int, field, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{field: msg})
}

// incident is the fold of one device's alarms for one condition.
type incident struct {
	ID       string `json:"id"`
	DeviceID string `json:"deviceId"`
	Type     string `json:"type"`
	First    int64  `json:"first"`
	Last     int64  `json:"last"`
	Count    int    `json:"count"`
	Detail   string `json:"detail"`
	Closed   int64  `json:"closed,omitempty"` // when the recovery came
}

// Sync implements fengqiao.Connector: it folds the next stored alerts. The cursor
// is the sequence number of the last stored alert folded.
//
// The saved incidents always match a cursor the runner has committed: a batch is
// folded once to emit its events and, at the next Sync, when the cursor shows the
// batch committed, folded again onto the saved incidents and saved with that
// cursor. A crash anywhere re-folds from the saved incidents: nothing counts twice
// and no incident goes unemitted.
func (c *Connector) Sync(ctx context.Context, cursor string) (*fengqiao.SyncBatch, error) {
	var after uint64
	if cursor != "" {
		n, err := strconv.ParseUint(cursor, 10, 64)
		if err != nil {
			return nil, fengqiao.Errorf(fengqiao.EINVALID, "同步游标无效：%q", cursor)
		}
		after = n
	}
	// Bring the saved incidents up to the committed cursor.
	var saved uint64
	if _, err := c.state.Load(incidents, savedCursorKey, &saved); err != nil {
		return nil, err
	}
	for saved < after {
		queued, err := c.state.Dequeue(inbox, saved, min(c.cfg.BatchSize, int(after-saved)))
		if err != nil || len(queued) == 0 {
			return nil, err
		}
		f := c.newFolding()
		if err := f.fold(ctx, queued); err != nil {
			return nil, err
		}
		saved = queued[len(queued)-1].Seq
		if err := f.save(saved); err != nil {
			return nil, err
		}
	}
	// What the saved incidents hold is no longer needed in the inbox, and ids
	// older than the window need not be known.
	if err := c.state.Trim(inbox, saved); err != nil {
		return nil, err
	}
	if err := c.state.Forget(inbox, time.Now().Add(-c.cfg.DedupWindow)); err != nil {
		return nil, err
	}
	queued, err := c.state.Dequeue(inbox, after, c.cfg.BatchSize)
	if err != nil {
		return nil, err
	}
	batch := &fengqiao.SyncBatch{Next: cursor, More: len(queued) == c.cfg.BatchSize}
	if len(queued) == 0 {
		return batch, nil
	}
	f := c.newFolding()
	if err := f.fold(ctx, queued); err != nil {
		return nil, err
	}
	batch.Next, batch.Rejects = strconv.FormatUint(queued[len(queued)-1].Seq, 10), f.rejects
	// The records are the alerts, not the incident versions they fold into.
	connectors.CountIndexed(c.Name(), len(queued)-len(f.rejects))
	for _, inc := range f.touched {
		d, _, _ := c.device(ctx, inc.DeviceID) // known: folding found it
		batch.Events = append(batch.Events, inc.event(d))
	}
	return batch, nil
}

// CountsOwnRecords tells the runner that the connector counts its records, the
// alerts, itself (connectors.OwnRecords): its events are incidents, each indexed
// again for every batch of alerts that touches it.
func (c *Connector) CountsOwnRecords() {}

// savedCursorKey holds, among the incidents, the cursor they are folded up to.
const savedCursorKey = "cursor"

// folding is one pass of alerts over the saved incidents.
type folding struct {
	c       *Connector
	latest  map[string]*incident // by device and condition
	touched []*incident          // every incident the alerts touched, in order
	rejects []fengqiao.Reject
}

func (c *Connector) newFolding() *folding { return &folding{c: c, latest: map[string]*incident{}} }

func (f *folding) fold(ctx context.Context, queued []connectors.Queued) error {
	seen := map[string]bool{}
	for _, q := range queued {
		var a alert
		json.Unmarshal(q.Value, &a) // the webhook stored only alerts that decode
		if _, ok, err := f.c.device(ctx, a.DeviceID); err != nil {
			return err // the registry cannot be read: try again, quarantine nothing
		} else if !ok {
			f.rejects = append(f.rejects, fengqiao.Reject{SourceID: a.AlertID, Reason: fmt.Sprintf("未登记的设备：%s", a.DeviceID), Raw: string(q.Value)})
			continue
		}
		if typeNames[a.Type] == "" {
			f.rejects = append(f.rejects, fengqiao.Reject{SourceID: a.AlertID, Reason: fmt.Sprintf("未知的告警类型：%s", a.Type), Raw: string(q.Value)})
			continue
		}
		// Dated in the future, it would hold its incident open for every later
		// alarm. (Alerts stored before the hub noted their arrival pass.)
		if a.ReceivedAt > 0 {
			if err := connectors.CheckNotFuture("告警时间", time.UnixMilli(a.Time), time.UnixMilli(a.ReceivedAt)); err != nil {
				f.rejects = append(f.rejects, fengqiao.Reject{SourceID: a.AlertID, Reason: fengqiao.ErrorMessage(err), Raw: string(q.Value)})
				continue
			}
		}
		key := a.DeviceID + "|" + a.Type
		inc, ok := f.latest[key]
		if !ok {
			inc = &incident{}
			if found, err := f.c.state.Load(incidents, key, inc); err != nil {
				return err
			} else if !found {
				inc = nil
			}
		}
		if inc = fold(inc, a, f.c.cfg.Window); inc == nil {
			continue // a recovery with nothing open
		}
		f.latest[key] = inc
		if !seen[inc.ID] {
			seen[inc.ID] = true
			f.touched = append(f.touched, inc)
		}
	}
	return nil
}

// save writes the folded incidents with the cursor they are folded up to, at once.
func (f *folding) save(cursor uint64) error {
	values := map[string]any{savedCursorKey: cursor}
	for key, inc := range f.latest {
		values[key] = inc
	}
	return f.c.state.Save(incidents, values)
}

// fold applies one alert to the latest incident of its device and condition,
// returning the incident it belongs to (nil for a recovery with nothing open).
func fold(inc *incident, a alert, window time.Duration) *incident {
	open := inc != nil && inc.Closed == 0 && a.Time-inc.Last <= window.Milliseconds()
	switch {
	case a.Signal == "RECOVER" && open:
		inc.Closed = a.Time
		return inc
	case a.Signal == "RECOVER":
		return inc
	case open:
		inc.Count++
		inc.Last = max(inc.Last, a.Time)
		return inc
	}
	return &incident{ID: fmt.Sprintf("%s-%s-%d", a.DeviceID, a.Type, a.Time), DeviceID: a.DeviceID, Type: a.Type,
		First: a.Time, Last: a.Time, Count: 1, Detail: a.Detail}
}

var typeNames = map[string]string{"SMOKE": "烟感告警", "DROWNING": "溺水预警", "INTRUSION": "闯禁告警", "KEY_PERSON": "重点人员预警"}

func (inc *incident) event(d device) *fengqiao.Event {
	first, last := time.UnixMilli(inc.First), time.UnixMilli(inc.Last)
	e := &fengqiao.Event{
		ID: fengqiao.EventID(fengqiao.SourceAlert, inc.ID), Source: fengqiao.SourceAlert, SourceID: inc.ID,
		Kind: fengqiao.KindAlert, Title: typeNames[inc.Type] + "：" + d.Address,
		Content:  fmt.Sprintf("设备%s报告：%s。%s至%s共告警%d次。", inc.DeviceID, inc.Detail, first.Format("01-02 15:04"), last.Format("01-02 15:04"), inc.Count),
		Category: typeNames[inc.Type], OccurredAt: first, ReportedAt: first, Status: fengqiao.StatusInProgress,
		HandlingLevel: fengqiao.HandlingGrid, OrgCode: d.GridCode, Address: d.Address, Occurrences: inc.Count, UpdatedAt: last,
	}
	if inc.Closed != 0 {
		closed := time.UnixMilli(inc.Closed)
		e.Status, e.ResolvedAt, e.Outcome, e.UpdatedAt = fengqiao.StatusResolved, &closed, "已恢复", closed
	}
	return e
}

// device returns a registered device, reading the registry when it is stale, and
// again if the device is not known (installed since the last read). An error
// means the registry could not be read.
func (c *Connector) device(ctx context.Context, id string) (device, bool, error) {
	if err := c.refreshDevices(ctx, false); err != nil {
		return device{}, false, err
	}
	c.mu.Lock()
	d, ok := c.devices[id]
	c.mu.Unlock()
	if !ok {
		if err := c.refreshDevices(ctx, true); err != nil {
			return device{}, false, err
		}
		c.mu.Lock()
		d, ok = c.devices[id]
		c.mu.Unlock()
	}
	return d, ok, nil
}

// refreshDevices reads the registry when it is older than DeviceRefresh, or when
// forced (at most once a minute).
func (c *Connector) refreshDevices(ctx context.Context, force bool) error {
	c.mu.Lock()
	age := time.Since(c.devicesAt)
	c.mu.Unlock()
	if c.devices != nil && (age < c.cfg.DeviceRefresh && !force || force && age < time.Minute) {
		return nil
	}
	devices := map[string]device{}
	for page := 1; ; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "size": {"1000"}}
		body, err := c.Upstream.Do(ctx, connectors.Call{Method: http.MethodGet, URL: c.cfg.BaseURL + "/iot/api/v1/devices?" + q.Encode(),
			Header: http.Header{"X-Api-Key": {c.cfg.APIKey}}})
		if err != nil {
			return err
		}
		var r struct {
			Data struct {
				Total int      `json:"total"`
				List  []device `json:"list"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s的设备清单无法解析", c.Title())
		}
		for _, d := range r.Data.List {
			devices[d.DeviceID] = d
		}
		if len(r.Data.List) == 0 || len(devices) >= r.Data.Total {
			break
		}
	}
	c.mu.Lock()
	c.devices, c.devicesAt = devices, time.Now()
	c.mu.Unlock()
	return nil
}

// Fetch implements fengqiao.Connector: incidents live in the hub, not upstream.
func (c *Connector) Fetch(ctx context.Context, sourceID string) (*fengqiao.Event, error) {
	return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "感知平台只推送告警，不支持按编号回查")
}
