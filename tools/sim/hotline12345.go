package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"fengqiao"
	"fengqiao/tools/world"
)

// Hotline12345 simulates the 12345 hotline work-order system: GET with an API key
// header, page/pageSize paging, an inclusive updatedSince cursor. Its write side
// dispatches (派单) and supervises (督办) work orders on a caller's request: POST
// JSON, deduplicated by the X-Request-Id header, business refusals answered HTTP
// 200 with success false and the platform's code.
type Hotline12345 struct {
	faultSwitch
	APIKey string
	orders *ledger[*world.HotlineOrder]
	tree   *fengqiao.OrgTree

	mu         sync.Mutex
	seq        int                        // dispatches and supervisions made
	byRequest  map[string]hotlineDispatch // by X-Request-Id
	dispatched map[string][]string        // dispatch ids by work order
}

// NewHotline12345 serves the world's work orders to callers presenting apiKey.
func NewHotline12345(w *world.World, apiKey string) *Hotline12345 {
	return &Hotline12345{APIKey: apiKey, orders: newLedger(w.Hotline, hotlineKey), tree: w.Tree,
		byRequest: map[string]hotlineDispatch{}, dispatched: map[string][]string{}}
}

func hotlineKey(o *world.HotlineOrder) (time.Time, string) { return o.Updated, o.GDBH }

// Put adds or updates a work order, as the hotline's operators do.
func (h *Hotline12345) Put(o *world.HotlineOrder) { h.orders.put(o) }

// Len returns how many work orders the system holds.
func (h *Hotline12345) Len() int { return h.orders.len() }

// Handler returns the system's HTTP API.
func (h *Hotline12345) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/gd/list", h.list)
	mux.HandleFunc("GET /api/v1/gd/detail", h.detail)
	mux.HandleFunc("POST /api/v1/gd/dispatch", h.dispatch)
	mux.HandleFunc("POST /api/v1/gd/supervise", h.dispatch)
	return h.wrap(h.authorize(mux))
}

type hotlineReply struct {
	Success bool   `json:"success"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	Result  any    `json:"result,omitempty"`
}

func (h *Hotline12345) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != h.APIKey {
			h.writeJSON(w, http.StatusUnauthorized, hotlineReply{Code: 401, Message: "无效的API Key"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *Hotline12345) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	size, _ := strconv.Atoi(q.Get("pageSize"))
	if page < 1 || size < 1 || size > 500 {
		h.writeJSON(w, http.StatusBadRequest, hotlineReply{Code: 400, Message: "分页参数错误"})
		return
	}
	var since time.Time
	if s := q.Get("updatedSince"); s != "" {
		t, err := time.ParseInLocation(world.HotlineTimeLayout, s, world.CST)
		if err != nil {
			h.writeJSON(w, http.StatusBadRequest, hotlineReply{Code: 400, Message: "updatedSince格式错误"})
			return
		}
		since = t
	}
	records, total := h.orders.since(since, (page-1)*size, size)
	records = damage(&h.faultSwitch, records, olderOrder)
	if records == nil {
		records = []*world.HotlineOrder{}
	}
	h.writeJSON(w, http.StatusOK, hotlineReply{Success: true, Code: 200, Message: "操作成功", Result: map[string]any{
		"total": total, "page": page, "pageSize": size, "records": records,
	}})
}

func (h *Hotline12345) detail(w http.ResponseWriter, r *http.Request) {
	o, ok := h.orders.get(r.URL.Query().Get("gdbh"))
	if !ok {
		h.writeJSON(w, http.StatusNotFound, hotlineReply{Code: 404, Message: "工单不存在"})
		return
	}
	h.writeJSON(w, http.StatusOK, hotlineReply{Success: true, Code: 200, Message: "操作成功", Result: o})
}

// olderOrder is an earlier version of a work order: still being handled an hour before.
func olderOrder(o *world.HotlineOrder) *world.HotlineOrder {
	if o.Malformed != "" {
		return o // a broken record's older version is as broken
	}
	old := *o
	old.BLZT, old.BJSJ, old.HFJG = "办理中", "", ""
	old.Updated = o.Updated.Add(-time.Hour)
	old.GXSJ = old.Updated.In(world.CST).Format(world.HotlineTimeLayout)
	return &old
}

// hotlineDispatch is the platform's answer to a dispatch or a supervision.
type hotlineDispatch struct {
	PDBH string `json:"pdbh"` // 派单编号 (PD…) or 督办编号 (DB…)
	GDBH string `json:"gdbh"`
	BLZT string `json:"blzt"` // the work order's status after it
}

// dispatch serves POST /api/v1/gd/dispatch (派单) and /api/v1/gd/supervise (督办):
// {"gdbh","cbdw" 承办单位代码,"blqx" 办理期限,"jjcd" 紧急程度 一般/紧急/特急,
// "clyj" 处理意见,"jfm" 解纷码}. A dispatch hands the work order to the unit and
// marks it 已派单; a supervision presses the unit on an order already dispatched.
// Either shows the unit and the 解纷码 on the order. A repeated X-Request-Id is
// answered code 208 with the first answer, and nothing is done again.
func (h *Hotline12345) dispatch(w http.ResponseWriter, r *http.Request) {
	supervise := strings.HasSuffix(r.URL.Path, "/supervise")
	var req struct {
		GDBH string `json:"gdbh"`
		CBDW string `json:"cbdw"`
		BLQX string `json:"blqx"`
		JJCD string `json:"jjcd"`
		CLYJ string `json:"clyj"`
		JFM  string `json:"jfm"`
	}
	refuse := func(code int, msg string) {
		h.writeJSON(w, http.StatusOK, hotlineReply{Code: code, Message: msg})
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		refuse(400, "请求参数格式错误")
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	requestID := r.Header.Get("X-Request-Id")
	if d, ok := h.byRequest[requestID]; ok && requestID != "" {
		h.writeJSON(w, http.StatusOK, hotlineReply{Success: true, Code: 208, Message: "重复请求，已返回原处理结果", Result: d})
		return
	}
	o, ok := h.orders.get(req.GDBH)
	if !ok {
		refuse(404, "工单不存在："+req.GDBH)
		return
	}
	unit := h.tree.Unit(req.CBDW)
	deadline, err := time.ParseInLocation(world.HotlineTimeLayout, req.BLQX, world.CST)
	switch {
	case o.BLZT == "已办结" || o.BLZT == "已归档":
		refuse(409, "工单已办结，不能"+map[bool]string{false: "派发", true: "督办"}[supervise])
	case supervise && o.BLZT == "待受理":
		refuse(409, "工单尚未派发，不能督办")
	case unit == nil || (unit.Level != fengqiao.LevelTown && unit.Level != fengqiao.LevelVillage):
		refuse(422, "承办单位代码无效："+req.CBDW)
	case err != nil:
		refuse(400, "办理期限格式错误，应为 yyyy-MM-dd HH:mm:ss")
	case !slices.Contains([]string{"一般", "紧急", "特急"}, req.JJCD):
		refuse(400, "紧急程度无效："+req.JJCD)
	case strings.TrimSpace(req.CLYJ) == "":
		refuse(400, "处理意见不能为空")
	default:
		next := *o
		if !supervise {
			next.BLZT = "已派单"
		}
		next.CBDW, next.BLDW, next.JFM = unit.Code, hotlineUnitName(unit), req.JFM
		next.BLQX = deadline.Format(world.HotlineTimeLayout)
		next.Updated = later(o.Updated)
		next.GXSJ = next.Updated.In(world.CST).Format(world.HotlineTimeLayout)
		h.orders.put(&next)
		h.seq++
		prefix := map[bool]string{false: "PD", true: "DB"}[supervise]
		d := hotlineDispatch{PDBH: fmt.Sprintf("%s%s%06d", prefix, next.Updated.In(world.CST).Format("20060102"), h.seq), GDBH: o.GDBH, BLZT: next.BLZT}
		if requestID != "" {
			h.byRequest[requestID] = d
		}
		h.dispatched[o.GDBH] = append(h.dispatched[o.GDBH], d.PDBH)
		h.writeJSON(w, http.StatusOK, hotlineReply{Success: true, Code: 200, Message: map[bool]string{false: "派单成功", true: "督办成功"}[supervise], Result: d})
	}
}

// Dispatched returns the ids of the dispatches and supervisions made on a work
// order, in order: what the platform did, however often it was asked.
func (h *Hotline12345) Dispatched(gdbh string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.dispatched[gdbh])
}

// Complete closes a work order as its handling unit does (已办结), with the
// result of the handling.
func (h *Hotline12345) Complete(gdbh, result string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	o, ok := h.orders.get(gdbh)
	if !ok {
		return fmt.Errorf("工单不存在：%s", gdbh)
	}
	next := *o
	next.Updated = later(o.Updated)
	next.BLZT, next.BLJG = "已办结", result
	next.BJSJ = next.Updated.In(world.CST).Format(world.HotlineTimeLayout)
	next.GXSJ = next.BJSJ
	h.orders.put(&next)
	return nil
}

// hotlineUnitName is how the platform names a handling unit.
func hotlineUnitName(u *fengqiao.OrgUnit) string {
	switch {
	case u.Level == fengqiao.LevelTown && !strings.HasSuffix(u.Name, "街道"):
		return u.Name + "人民政府"
	case u.Level == fengqiao.LevelTown:
		return u.Name + "办事处"
	case strings.HasSuffix(u.Name, "社区"):
		return u.Name + "居委会"
	}
	return u.Name + "委会"
}

// later is the time of a record's next version: now, to the second, and after
// the version before.
func later(prev time.Time) time.Time {
	now := time.Now().Truncate(time.Second)
	if !now.After(prev) {
		now = prev.Add(time.Second).Truncate(time.Second)
	}
	return now
}
