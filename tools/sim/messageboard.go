package sim

import (
	"encoding/base64"
	"net/http"
	"strconv"
)

// MessageBoard simulates a provincial message board (留言板) as its export gives
// it: records whose keys are the export's own Chinese column names, read a page at
// a time with an opaque page token. It serves the rows it is given, in order.
type MessageBoard struct {
	faultSwitch
	rows     []map[string]string
	pageSize int
}

// NewMessageBoard serves rows, pageSize records a page.
func NewMessageBoard(rows []map[string]string, pageSize int) *MessageBoard {
	return &MessageBoard{rows: rows, pageSize: pageSize}
}

// Handler returns the board's HTTP API: GET /api/messages?pageToken=….
func (b *MessageBoard) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/messages", b.list)
	return b.wrap(mux)
}

func (b *MessageBoard) list(w http.ResponseWriter, r *http.Request) {
	offset := 0
	if t := r.URL.Query().Get("pageToken"); t != "" {
		raw, err := base64.RawURLEncoding.DecodeString(t)
		if offset, err = strconv.Atoi(string(raw)); err != nil || offset < 0 || offset > len(b.rows) {
			b.writeJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": "pageToken 无效"})
			return
		}
	}
	end := min(offset+b.pageSize, len(b.rows))
	next := ""
	if end < len(b.rows) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	b.writeJSON(w, http.StatusOK, map[string]any{"code": 0, "data": map[string]any{"list": b.rows[offset:end], "nextPageToken": next}})
}
