package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"fengqiao"
	"fengqiao/chains"
	"fengqiao/cockpit"
	"fengqiao/gateway"
	"fengqiao/search"
)

// reindexer runs `fengqiao reindex` inside the hub: POST /admin/reindex starts a
// rebuild in the background — the embedded index (search.Swap), then the chains
// (chains.Swap) from the events the hub keeps; ?only=index or ?only=chains one
// of them; behind Elasticsearch the chains only — GET reports how far it has
// come, phase by phase, DELETE stops it. The hub answers from the old index and
// the old chains until each new one is complete.
type reindexer struct {
	swap   *search.Swap // nil behind Elasticsearch
	chains *chains.Swap
	events chains.Events // what the chains are rebuilt from
	count  func(context.Context) int
	log    *slog.Logger

	mu     sync.Mutex
	status reindexStatus
	cancel context.CancelFunc
	step   time.Time // when the step shown began, for its rate

	stepped func(phase, step string) // told as each step begins (tests)
}

// The phases of a rebuild, as reindexStatus names them.
const (
	phaseIndex  = "index"
	phaseChains = "chains"
)

// reindexStatus is what /admin/reindex answers and /healthz shows.
type reindexStatus struct {
	State      string     `json:"state"`            // idle, running, done, failed, cancelled
	Phases     []string   `json:"phases,omitempty"` // what the run rebuilds, in order: index, chains
	Phase      string     `json:"phase,omitempty"`  // the phase running, or the last one run
	Step       string     `json:"step,omitempty"`   // what it is doing, for people: 重建索引, 重建串联：读取事件, 重建串联
	Done       int        `json:"done"`
	Total      int        `json:"total"`
	Rate       float64    `json:"ratePerSecond"`
	ETASeconds int        `json:"etaSeconds"`
	Events     int        `json:"events,omitempty"` // what the new index holds, once done
	Linked     int        `json:"linked,omitempty"` // the events linked into the new chains, once done
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	Error      string     `json:"error,omitempty"`
	Message    string     `json:"message,omitempty"`
}

// The steps, as people read them.
const (
	stepIndex       = "重建索引"
	stepChainsRead  = "重建串联：读取事件"
	stepChainsLinks = "重建串联"
)

// addAdmin serves /admin/reindex on srv, to county operators and commanders,
// and the reindex status in /healthz's detailed view.
func (h *Hub) addAdmin(srv *gateway.Server, log *slog.Logger) {
	h.reindex = &reindexer{swap: h.swap, chains: h.Chains, events: keptEvents{h}, log: log, status: reindexStatus{State: "idle"}}
	h.reindex.count = func(ctx context.Context) int {
		n, _ := h.tally.Index.Count(ctx, fengqiao.EventFilter{})
		if h.cold != nil {
			cold, _ := h.cold.Count(ctx, fengqiao.EventFilter{})
			n += cold
		}
		return n
	}
	srv.HandleAdmin("/admin/reindex", "重建索引", h.reindex)
	srv.HealthDetail("reindex", func() any {
		st := h.reindex.current()
		return st
	})
}

func (x *reindexer) current() reindexStatus {
	x.mu.Lock()
	defer x.mu.Unlock()
	st := x.status
	st.Phases = slices.Clone(st.Phases)
	return st
}

func (x *reindexer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		x.reply(w, http.StatusOK, "")
	case http.MethodPost:
		var phases []string
		switch only := r.URL.Query().Get("only"); {
		case only == phaseIndex && x.swap == nil:
			x.reply(w, http.StatusNotImplemented, "当前索引为 Elasticsearch：请在集群中新建索引并切换别名，枢纽内重建索引只适用于内嵌索引（串联可用 only=chains 重建）")
			return
		case only == phaseIndex || only == phaseChains:
			phases = []string{only}
		case only != "":
			x.reply(w, http.StatusBadRequest, "only 只能是 index（仅重建索引）或 chains（仅重建串联）")
			return
		case x.swap == nil: // Elasticsearch's index is rebuilt in the cluster
			phases = []string{phaseChains}
		default:
			phases = []string{phaseIndex, phaseChains}
		}
		if !x.start(phases) {
			x.reply(w, http.StatusConflict, "重建已在进行中，请等待其完成")
			return
		}
		x.reply(w, http.StatusAccepted, "重建已开始（"+phaseNames(phases)+"），完成前继续使用旧索引和旧串联应答")
	case http.MethodDelete:
		x.mu.Lock()
		cancel := x.cancel
		x.mu.Unlock()
		if cancel == nil {
			x.reply(w, http.StatusConflict, "没有正在进行的重建")
			return
		}
		cancel()
		x.reply(w, http.StatusAccepted, "已请求停止重建，继续使用旧索引和旧串联")
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		x.reply(w, http.StatusMethodNotAllowed, "只支持 GET（进度）、POST（开始）和 DELETE（停止）")
	}
}

// phaseNames names phases for people: 索引、串联.
func phaseNames(phases []string) string {
	var names []string
	for _, p := range phases {
		names = append(names, map[string]string{phaseIndex: "索引", phaseChains: "串联"}[p])
	}
	return strings.Join(names, "、")
}

func (x *reindexer) reply(w http.ResponseWriter, code int, message string) {
	st := x.current()
	st.Message = message
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(st)
}

// start begins a rebuild of phases unless one runs; it runs until done, failed
// or cancelled (DELETE, or the hub closing).
func (x *reindexer) start(phases []string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.cancel != nil {
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	now := time.Now()
	x.cancel, x.status = cancel, reindexStatus{State: "running", Phases: phases, StartedAt: &now}
	go x.run(ctx, phases)
	return true
}

// report shows done of total of a phase's step: in the status, and in the log
// through p (a new printer when the step changes).
func (x *reindexer) report(p **progress, phase, step string, done, total int) {
	x.mu.Lock()
	changed := x.status.Phase != phase || x.status.Step != step
	before, beforeTotal := x.status.Done, x.status.Total // of the step before, when it changed
	if changed {
		x.status.Phase, x.status.Step, x.step = phase, step, time.Now()
	}
	rate := float64(done) / max(time.Since(x.step).Seconds(), 1e-3)
	x.status.Done, x.status.Total, x.status.Rate = done, total, float64(int(rate*10))/10
	x.status.ETASeconds = int(float64(max(total-done, 0)) / max(rate, 1e-9))
	stepped := x.stepped
	x.mu.Unlock()
	if changed {
		if *p != nil && before < beforeTotal {
			(*p).Finish(before) // its last report, unless shown
		}
		*p = newProgress(step, io.Discard, x.log)
		x.log.Info("重建：开始", "phase", phase, "step", step, "total", total)
		if stepped != nil {
			stepped(phase, step)
		}
	}
	if total > 0 && (changed || done != before) { // no total yet, or shown
		(*p).Report(done, total)
	}
}

func (x *reindexer) run(ctx context.Context, phases []string) {
	start := time.Now()
	var p *progress
	var err error
	var held, linked int
	for _, phase := range phases {
		if err != nil {
			break
		}
		switch phase {
		case phaseIndex:
			x.log.Info("索引重建开始", "from", x.swap.Dir())
			x.report(&p, phase, stepIndex, 0, 0)
			held, err = x.swap.Rebuild(ctx, func(done, total int) { x.report(&p, phase, stepIndex, done, total) })
			if err == nil {
				x.log.Info("索引重建完成", "events", held, "dir", x.swap.Dir(), "elapsed", time.Since(start).Round(time.Millisecond))
			}
		case phaseChains:
			began := time.Now()
			x.log.Info("串联重建开始", "from", x.chains.Dir())
			expected := x.count(ctx)
			x.report(&p, phase, stepChainsRead, 0, expected)
			linked, err = x.chains.Rebuild(ctx, x.events, func(step string, done, total int) {
				if step == chains.ReadingStep {
					x.report(&p, phase, stepChainsRead, done, max(expected, done))
					return
				}
				x.report(&p, phase, stepChainsLinks, done, total)
			})
			if err == nil {
				x.log.Info("串联重建完成", "events", linked, "dir", x.chains.Dir(), "elapsed", time.Since(began).Round(time.Millisecond))
			}
		}
	}
	now := time.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.cancel()
	x.cancel = nil
	x.status.FinishedAt, x.status.ETASeconds = &now, 0
	switch {
	case err == nil:
		x.status.State, x.status.Events, x.status.Linked = "done", held, linked
		x.log.Info("重建完成", "phases", strings.Join(phases, ","), "events", held, "linked", linked, "elapsed", now.Sub(start).Round(time.Millisecond))
	case errors.Is(err, context.Canceled):
		x.status.State, x.status.Error = "cancelled", "重建已停止，继续使用旧索引和旧串联"
		x.log.Warn("重建已停止，继续使用旧索引和旧串联", "phase", x.status.Phase)
	default:
		x.status.State, x.status.Error = "failed", "重建失败，继续使用旧索引和旧串联："+err.Error()
		x.log.Error("重建失败，继续使用旧索引和旧串联", "phase", x.status.Phase, "err", err)
	}
}

// keptEvents is every event the hub keeps, as a chains rebuild reads them: the
// index (scanned when embedded, read newest first page by page behind
// Elasticsearch) and the cold one retention moved old events to.
type keptEvents struct{ h *Hub }

func (k keptEvents) Scan(ctx context.Context, fn func([]*fengqiao.Event) error) error {
	if err := scanIndex(ctx, k.h.tally.Index, fn); err != nil {
		return err
	}
	if k.h.cold != nil {
		return scanIndex(ctx, k.h.cold, fn)
	}
	return nil
}

func (k keptEvents) Lookup(ctx context.Context, ids []string) (map[string]*fengqiao.Event, error) {
	return k.h.tally.Index.Lookup(ctx, ids) // the hot index, then the cold one
}

// scanIndex reads every event of idx: by its Scan when it has one, else newest
// first, page by page.
func scanIndex(ctx context.Context, idx fengqiao.Index, fn func([]*fengqiao.Event) error) error {
	if s, ok := idx.(cockpit.Scanner); ok {
		if err := s.Scan(ctx, fn); !errors.Is(err, errors.ErrUnsupported) {
			return err
		}
	}
	for after := ""; ; {
		page, err := idx.Search(ctx, fengqiao.EventQuery{First: fengqiao.MaxPageSize, After: after})
		if err != nil {
			return err
		}
		if err := fn(page.Events); err != nil {
			return err
		}
		if !page.HasNext || len(page.Cursors) == 0 {
			return nil
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
}

// reindexCommand is `fengqiao reindex`: it asks the running hub to rebuild its
// index and its chains (or one of them) and follows the progress, step by step,
// until the new ones are in use.
func (m *Main) reindexCommand(ctx context.Context, args []string) error {
	fs := m.command("reindex", "reindex [-addr 地址] -token 令牌|@文件 [-index-only | -chains-only]",
		"让运行中的枢纽从已存事件重建索引和串联并显示进度，完成前旧索引照常应答。")
	addr := fs.String("addr", "127.0.0.1:8080", "运行中枢纽的地址")
	token := fs.String("token", "", "县级运维员（OPERATOR）或指挥长（COMMANDER）令牌；也可用 @文件 读取")
	poll := fs.Duration("poll", 500*time.Millisecond, "查询进度的间隔")
	indexOnly := fs.Bool("index-only", false, "只重建索引，不重建串联")
	chainsOnly := fs.Bool("chains-only", false, "只重建串联（从枢纽保存的事件重新串联），不重建索引")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *indexOnly && *chainsOnly {
		return errors.New("-index-only 和 -chains-only 只能选一个")
	}
	tok, err := readToken(*token, "县级运维员或指挥长")
	if err != nil {
		return err
	}
	base := *addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	call := func(method, query string) (reindexStatus, int, error) {
		var st reindexStatus
		req, err := http.NewRequestWithContext(ctx, method, base+"/admin/reindex"+query, nil)
		if err != nil {
			return st, 0, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return st, 0, fmt.Errorf("无法连接枢纽 %s：%w", *addr, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(body, &st); err != nil || st.State == "" {
			return st, resp.StatusCode, fmt.Errorf("枢纽拒绝了请求（%s）：%s", resp.Status, bytes.TrimSpace(body))
		}
		return st, resp.StatusCode, nil
	}
	query := ""
	switch {
	case *indexOnly:
		query = "?only=" + phaseIndex
	case *chainsOnly:
		query = "?only=" + phaseChains
	}
	st, code, err := call(http.MethodPost, query)
	if err != nil {
		return err
	}
	if code != http.StatusAccepted {
		return fmt.Errorf("%s", st.Message)
	}
	fmt.Fprintln(m.Stdout, st.Message)
	var p *progress // of the step shown
	shown := reindexStatus{}
	for {
		select {
		case <-ctx.Done():
			// Interrupted: the hub stops the rebuild and keeps the old index and chains.
			stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ctx = stop
			if st, _, err := call(http.MethodDelete, ""); err == nil {
				fmt.Fprintln(m.Stderr, "\n"+st.Message)
			}
			return context.Canceled
		case <-time.After(*poll):
		}
		st, _, err = call(http.MethodGet, "")
		if err != nil {
			return err
		}
		if st.Step != shown.Step && st.Step != "" {
			if p != nil {
				p.Finish(max(shown.Total, shown.Done)) // the step before is over
			}
			p = m.progress(st.Step)
			if st.Rate > 0 { // the step began before this poll: its rate is the hub's
				p.start = p.start.Add(-time.Duration(float64(st.Done) / st.Rate * float64(time.Second)))
			}
		}
		if p != nil && st.State == "running" && st.Total > 0 {
			p.Report(min(st.Done, st.Total-1), st.Total) // the end is shown once over
		}
		shown = st
		switch st.State {
		case "running":
		case "done":
			if p != nil {
				p.Finish(max(st.Total, st.Done))
			}
			var parts []string
			if slices.Contains(st.Phases, phaseIndex) {
				parts = append(parts, fmt.Sprintf("新索引共 %d 条事件", st.Events))
			}
			if slices.Contains(st.Phases, phaseChains) {
				parts = append(parts, fmt.Sprintf("串联已由 %d 条事件重新生成", st.Linked))
			}
			fmt.Fprintf(m.Stdout, "重建完成：%s，已替换旧%s\n", strings.Join(parts, "，"), phaseNames(st.Phases))
			return nil
		default:
			return errors.New(st.Error)
		}
	}
}

// readToken is the token given, or read from the file @path names; who says
// whose token the command needs, for the message when none is given.
func readToken(s, who string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("请用 -token 提供%s令牌（fengqiao token -role OPERATOR -org 331081 签发），也可用 -token @文件", who)
	}
	if path, ok := strings.CutPrefix(s, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("读取令牌文件失败：%w", err)
		}
		s = string(b)
	}
	return strings.TrimSpace(s), nil
}
