package sim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"fengqiao/tools/world"
)

// MessageBoard simulates a provincial message board (留言板) as its export gives
// it: records whose keys are the export's own Chinese column names, read a page at
// a time with an opaque page token. It serves the rows it is given, in order.
//
// Its write side takes the county's work on a message: a transfer (转办) to a
// handling unit and an urge (催办, the county's 督办) on a message already
// transferred. Writes answer HTTP 200 with the board's own business code (0 done,
// 1001… refused, with a message); a repeated X-Request-Id is answered 409 with the
// first transfer, and nothing is done again. Without the header nothing is
// deduplicated: a repeat makes a second transfer. The caller's own number
// (outerNo) is kept and can be searched for.
type MessageBoard struct {
	faultSwitch
	rows     []map[string]string
	pageSize int
	// IDColumn is the column that holds a message's id; "留言编号" if empty.
	IDColumn string
	// WriteKey, if set, is the X-Board-Key the write side requires.
	WriteKey string

	mu        sync.Mutex
	seq       int
	transfers []boardTransfer
	byRequest map[string]boardTransfer
	closed    map[string]bool
}

// NewMessageBoard serves rows, pageSize records a page.
func NewMessageBoard(rows []map[string]string, pageSize int) *MessageBoard {
	return &MessageBoard{rows: rows, pageSize: pageSize, byRequest: map[string]boardTransfer{}, closed: map[string]bool{}}
}

// Handler returns the board's HTTP API: GET /api/messages?pageToken=…&pageSize=…, and the
// write side: POST /api/messages/{id}/transfers (转办), POST
// /api/messages/{id}/urges (催办) and GET /api/transfers?outerNo=… (search).
func (b *MessageBoard) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/messages", b.list)
	mux.HandleFunc("POST /api/messages/{id}/transfers", b.write)
	mux.HandleFunc("POST /api/messages/{id}/urges", b.write)
	mux.HandleFunc("GET /api/transfers", b.search)
	return b.wrap(mux)
}

// maxBoardPageSize is the largest pageSize the board serves.
const maxBoardPageSize = 1000

// list serves GET /api/messages?pageToken=…&pageSize=…: pageSize records from the
// token's place (the board's own page size without pageSize).
func (b *MessageBoard) list(w http.ResponseWriter, r *http.Request) {
	size := b.pageSize
	if s := r.URL.Query().Get("pageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxBoardPageSize {
			b.writeJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": fmt.Sprintf("pageSize 须为 1 到 %d 的整数", maxBoardPageSize)})
			return
		}
		size = n
	}
	offset := 0
	if t := r.URL.Query().Get("pageToken"); t != "" {
		raw, err := base64.RawURLEncoding.DecodeString(t)
		if offset, err = strconv.Atoi(string(raw)); err != nil || offset < 0 || offset > len(b.rows) {
			b.writeJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": "pageToken 无效"})
			return
		}
	}
	end := min(offset+size, len(b.rows))
	next := ""
	if end < len(b.rows) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	b.writeJSON(w, http.StatusOK, map[string]any{"code": 0, "data": map[string]any{"list": b.rows[offset:end], "nextPageToken": next}})
}

// boardTransfer is a transfer (ZB…) or an urge (CB…) of a message.
type boardTransfer struct {
	TransferID string `json:"transferId"`
	MessageID  string `json:"messageId"`
	Kind       string `json:"kind"` // 转办 or 催办
	Unit       string `json:"unit"`
	Deadline   string `json:"deadline"`
	Opinion    string `json:"opinion"`
	Level      string `json:"level"`
	OuterNo    string `json:"outerNo"`
	CreatedAt  string `json:"createdAt"`
}

const boardTimeLayout = "2006-01-02 15:04:05"

// write serves POST /api/messages/{id}/transfers and …/urges: {"unit" 承办单位代码,
// "deadline" 办理时限 yyyy-MM-dd HH:mm:ss, "opinion" 转办意见, "level" 普通/加急/特急,
// "outerNo" 来文编号}.
func (b *MessageBoard) write(w http.ResponseWriter, r *http.Request) {
	urge := strings.HasSuffix(r.URL.Path, "/urges")
	refuse := func(code int, msg string) {
		b.writeJSON(w, http.StatusOK, map[string]any{"code": code, "message": msg})
	}
	if b.WriteKey != "" && r.Header.Get("X-Board-Key") != b.WriteKey {
		b.writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 401, "message": "接入密钥无效"})
		return
	}
	var req struct {
		Unit     string `json:"unit"`
		Deadline string `json:"deadline"`
		Opinion  string `json:"opinion"`
		Level    string `json:"level"`
		OuterNo  string `json:"outerNo"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		refuse(1000, "请求体不是有效的 JSON")
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	requestID := r.Header.Get("X-Request-Id")
	if t, ok := b.byRequest[requestID]; ok && requestID != "" {
		b.writeJSON(w, http.StatusConflict, map[string]any{"code": 409, "message": "重复的请求，已返回原" + t.Kind, "data": t})
		return
	}
	id := r.PathValue("id")
	deadline, err := time.ParseInLocation(boardTimeLayout, req.Deadline, world.CST)
	kind := map[bool]string{false: "转办", true: "催办"}[urge]
	switch {
	case !b.has(id):
		refuse(1001, "留言不存在："+id)
	case b.closed[id]:
		refuse(1004, "留言已办结，不能"+kind)
	case urge && !b.transferred(id):
		refuse(1005, "留言尚未转办，不能催办")
	case strings.TrimSpace(req.Unit) == "":
		refuse(1002, "承办单位不能为空")
	case err != nil:
		refuse(1003, "办理时限格式错误，应为 yyyy-MM-dd HH:mm:ss")
	case req.Level != "" && req.Level != "普通" && req.Level != "加急" && req.Level != "特急":
		refuse(1006, "紧急程度无效："+req.Level)
	default:
		b.seq++
		prefix := map[bool]string{false: "ZB", true: "CB"}[urge]
		t := boardTransfer{TransferID: fmt.Sprintf("%s%06d", prefix, b.seq), MessageID: id, Kind: kind, Unit: req.Unit,
			Deadline: deadline.Format(boardTimeLayout), Opinion: req.Opinion, Level: req.Level, OuterNo: req.OuterNo,
			CreatedAt: time.Now().In(world.CST).Format(boardTimeLayout)}
		b.transfers = append(b.transfers, t)
		if requestID != "" {
			b.byRequest[requestID] = t
		}
		b.writeJSON(w, http.StatusOK, map[string]any{"code": 0, "message": kind + "成功", "data": t})
	}
}

// search serves GET /api/transfers?outerNo=…&messageId=…: the transfers and
// urges that match, oldest first.
func (b *MessageBoard) search(w http.ResponseWriter, r *http.Request) {
	outerNo, messageID := r.URL.Query().Get("outerNo"), r.URL.Query().Get("messageId")
	if outerNo == "" && messageID == "" {
		b.writeJSON(w, http.StatusOK, map[string]any{"code": 1000, "message": "须给出 outerNo 或 messageId"})
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	list := []boardTransfer{}
	for _, t := range b.transfers {
		if (outerNo == "" || t.OuterNo == outerNo) && (messageID == "" || t.MessageID == messageID) {
			list = append(list, t)
		}
	}
	b.writeJSON(w, http.StatusOK, map[string]any{"code": 0, "data": map[string]any{"list": list, "total": len(list)}})
}

func (b *MessageBoard) idColumn() string {
	if b.IDColumn != "" {
		return b.IDColumn
	}
	return "留言编号"
}

func (b *MessageBoard) has(id string) bool {
	for _, row := range b.rows {
		if row[b.idColumn()] == id {
			return true
		}
	}
	return false
}

func (b *MessageBoard) transferred(id string) bool {
	for _, t := range b.transfers {
		if t.MessageID == id && t.Kind == "转办" {
			return true
		}
	}
	return false
}

// Close marks a message 已办结: it takes no more transfers or urges.
func (b *MessageBoard) Close(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed[id] = true
}

// Transfers returns the ids of the transfers and urges made on a message, in order.
func (b *MessageBoard) Transfers(id string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, t := range b.transfers {
		if t.MessageID == id {
			out = append(out, t.TransferID)
		}
	}
	return out
}
