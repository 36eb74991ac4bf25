package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"fengqiao/gateway"
	"fengqiao/search"
)

// reindexer runs `fengqiao reindex` inside the hub: POST /admin/reindex starts a
// rebuild of the embedded index (search.Swap) in the background, GET reports how
// far it has come, DELETE stops it. The hub answers from the old index until the
// new one is complete.
type reindexer struct {
	swap *search.Swap // nil behind Elasticsearch
	log  *slog.Logger

	mu     sync.Mutex
	status reindexStatus
	cancel context.CancelFunc
}

// reindexStatus is what /admin/reindex answers.
type reindexStatus struct {
	State      string     `json:"state"` // idle, running, done, failed, cancelled
	Done       int        `json:"done"`
	Total      int        `json:"total"`
	Rate       float64    `json:"ratePerSecond"`
	ETASeconds int        `json:"etaSeconds"`
	Events     int        `json:"events,omitempty"` // what the new index holds, once done
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	Error      string     `json:"error,omitempty"`
	Message    string     `json:"message,omitempty"`
}

// addAdmin serves /admin/reindex on srv, to county operators and commanders.
func (h *Hub) addAdmin(srv *gateway.Server, log *slog.Logger) {
	h.reindex = &reindexer{swap: h.swap, log: log, status: reindexStatus{State: "idle"}}
	srv.HandleAdmin("/admin/reindex", "重建索引", h.reindex)
}

func (x *reindexer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		x.reply(w, http.StatusOK, "")
	case http.MethodPost:
		if x.swap == nil {
			x.reply(w, http.StatusNotImplemented, "当前索引为 Elasticsearch：请在集群中新建索引并切换别名，枢纽内重建只适用于内嵌索引")
			return
		}
		if !x.start() {
			x.reply(w, http.StatusConflict, "索引重建已在进行中，请等待其完成")
			return
		}
		x.reply(w, http.StatusAccepted, "索引重建已开始，完成前继续使用旧索引应答")
	case http.MethodDelete:
		x.mu.Lock()
		cancel := x.cancel
		x.mu.Unlock()
		if cancel == nil {
			x.reply(w, http.StatusConflict, "没有正在进行的索引重建")
			return
		}
		cancel()
		x.reply(w, http.StatusAccepted, "已请求停止索引重建，继续使用旧索引")
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		x.reply(w, http.StatusMethodNotAllowed, "只支持 GET（进度）、POST（开始）和 DELETE（停止）")
	}
}

func (x *reindexer) reply(w http.ResponseWriter, code int, message string) {
	x.mu.Lock()
	st := x.status
	x.mu.Unlock()
	st.Message = message
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(st)
}

// start begins a rebuild unless one runs; it runs until done, failed or
// cancelled (DELETE, or the hub closing its index).
func (x *reindexer) start() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.cancel != nil {
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	now := time.Now()
	x.cancel, x.status = cancel, reindexStatus{State: "running", StartedAt: &now}
	go x.run(ctx)
	return true
}

func (x *reindexer) run(ctx context.Context) {
	p := newProgress("重建索引", io.Discard, x.log)
	start := time.Now()
	x.log.Info("索引重建开始", "from", x.swap.Dir())
	held, err := x.swap.Rebuild(ctx, func(done, total int) {
		p.Report(done, total)
		rate := float64(done) / max(time.Since(start).Seconds(), 1e-3)
		x.mu.Lock()
		x.status.Done, x.status.Total, x.status.Rate = done, total, float64(int(rate*10))/10
		x.status.ETASeconds = int(float64(total-done) / max(rate, 1e-9))
		x.mu.Unlock()
	})
	now := time.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.cancel()
	x.cancel = nil
	x.status.FinishedAt, x.status.ETASeconds = &now, 0
	switch {
	case err == nil:
		x.status.State, x.status.Events = "done", held
		x.log.Info("索引重建完成", "events", held, "dir", x.swap.Dir(), "elapsed", now.Sub(start).Round(time.Millisecond))
	case errors.Is(err, context.Canceled):
		x.status.State, x.status.Error = "cancelled", "索引重建已停止，继续使用旧索引"
		x.log.Warn("索引重建已停止，继续使用旧索引")
	default:
		x.status.State, x.status.Error = "failed", "索引重建失败，继续使用旧索引："+err.Error()
		x.log.Error("索引重建失败，继续使用旧索引", "err", err)
	}
}

// reindexCommand is `fengqiao reindex`: it asks the running hub to rebuild its
// index and follows the progress until the new index is in use.
func (m *Main) reindexCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "运行中枢纽的地址")
	token := fs.String("token", "", "县级运维员（OPERATOR）或指挥长（COMMANDER）令牌；也可用 @文件 读取")
	poll := fs.Duration("poll", 500*time.Millisecond, "查询进度的间隔")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tok, err := readToken(*token)
	if err != nil {
		return err
	}
	base := *addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	call := func(method string) (reindexStatus, int, error) {
		var st reindexStatus
		req, err := http.NewRequestWithContext(ctx, method, base+"/admin/reindex", nil)
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
	st, code, err := call(http.MethodPost)
	if err != nil {
		return err
	}
	if code != http.StatusAccepted {
		return fmt.Errorf("%s", st.Message)
	}
	fmt.Fprintln(m.Stdout, st.Message)
	p := m.progress("重建索引")
	for {
		select {
		case <-ctx.Done():
			// Interrupted: the hub stops the rebuild and keeps the old index.
			stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ctx = stop
			if st, _, err := call(http.MethodDelete); err == nil {
				fmt.Fprintln(m.Stderr, "\n"+st.Message)
			}
			return context.Canceled
		case <-time.After(*poll):
		}
		st, _, err = call(http.MethodGet)
		if err != nil {
			return err
		}
		switch st.State {
		case "running":
			if st.Total > 0 {
				p.Report(min(st.Done, st.Total-1), st.Total) // the end is shown once done
			}
		case "done":
			p.Report(st.Total, st.Total)
			fmt.Fprintf(m.Stdout, "索引重建完成：新索引共 %d 条事件，已替换旧索引\n", st.Events)
			return nil
		default:
			return errors.New(st.Error)
		}
	}
}

// readToken is the token given, or read from the file @path names.
func readToken(s string) (string, error) {
	if s == "" {
		return "", errors.New("请用 -token 提供县级运维员或指挥长令牌（fengqiao token -role OPERATOR -org 331081 签发）")
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
