package sim

import (
	"net/http"
	"strconv"
	"time"

	"fengqiao/tools/world"
)

// Hotline12345 simulates the 12345 hotline work-order system: GET with an API key
// header, page/pageSize paging, an inclusive updatedSince cursor.
type Hotline12345 struct {
	faultSwitch
	APIKey string
	orders *ledger[*world.HotlineOrder]
}

// NewHotline12345 serves the world's work orders to callers presenting apiKey.
func NewHotline12345(w *world.World, apiKey string) *Hotline12345 {
	return &Hotline12345{APIKey: apiKey, orders: newLedger(w.Hotline, hotlineKey)}
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
