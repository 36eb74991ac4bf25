package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"fengqiao/tools/world"
)

// Surveys simulates the follow-up visit system (回访/满意度): every request signed
// with HMAC-SHA256 over method, path with query, and timestamp; offset/limit
// paging and an inclusive since cursor in Unix milliseconds.
type Surveys struct {
	faultSwitch
	AppKey, Secret string
	results        *ledger[*world.Survey]
}

// NewSurveys serves the world's survey results.
func NewSurveys(w *world.World, appKey, secret string) *Surveys {
	return &Surveys{AppKey: appKey, Secret: secret, results: newLedger(w.Surveys, func(s *world.Survey) (time.Time, string) { return s.Updated, s.HFID })}
}

// Put adds or updates a result.
func (s *Surveys) Put(r *world.Survey) { s.results.put(r) }

// Len returns how many results the system holds.
func (s *Surveys) Len() int { return s.results.len() }

// Handler returns the system's HTTP API.
func (s *Surveys) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /survey/api/results", s.list)
	return s.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts := r.Header.Get("X-Ts")
		mac := hmac.New(sha256.New, []byte(s.Secret))
		mac.Write([]byte(r.Method + "\n" + r.URL.RequestURI() + "\n" + ts))
		if r.Header.Get("X-App-Key") != s.AppKey || !hmac.Equal([]byte(r.Header.Get("X-Sig")), []byte(hex.EncodeToString(mac.Sum(nil)))) {
			s.writeJSON(w, http.StatusUnauthorized, map[string]any{"ok": false, "msg": "签名无效"})
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

func (s *Surveys) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, err := strconv.Atoi(q.Get("limit"))
	since, _ := strconv.ParseInt(q.Get("since"), 10, 64)
	if err != nil || offset < 0 || limit < 1 || limit > 500 {
		s.writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "msg": "分页参数错误"})
		return
	}
	rows, total := s.results.since(time.UnixMilli(since), offset, limit)
	rows = damage(&s.faultSwitch, rows, func(r *world.Survey) *world.Survey {
		if r.Malformed != "" {
			return r // a broken record's older version is as broken
		}
		old := *r
		old.MYD, old.HFNR = "2", "回访中"
		old.GXSJ, old.Updated = r.GXSJ-time.Hour.Milliseconds(), r.Updated.Add(-time.Hour)
		return &old
	})
	if rows == nil {
		rows = []*world.Survey{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"ok": true, "total": total, "rows": rows})
}
