package sim

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"fengqiao/tools/world"
)

// Mediation simulates the grid mediation ledger of 基层智治综合应用: POST with JSON
// bodies, requests signed with md5(appId+timestamp+secret), errors reported as a
// business code inside an HTTP 200, and an inclusive lastModifyTimeStart cursor.
type Mediation struct {
	faultSwitch
	AppID, Secret string
	cases         *ledger[*world.MediationCase]
}

// NewMediation serves the world's mediation cases to the app appID signing with secret.
func NewMediation(w *world.World, appID, secret string) *Mediation {
	return &Mediation{AppID: appID, Secret: secret, cases: newLedger(w.Mediation, mediationKey)}
}

func mediationKey(c *world.MediationCase) (time.Time, string) {
	return time.UnixMilli(c.LastModifyTime), c.CaseNo
}

// Put adds or updates a case.
func (m *Mediation) Put(c *world.MediationCase) { m.cases.put(c) }

// Len returns how many cases the ledger holds.
func (m *Mediation) Len() int { return m.cases.len() }

// Handler returns the system's HTTP API.
func (m *Mediation) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /openapi/mediation/case/page", m.page)
	mux.HandleFunc("POST /openapi/mediation/case/detail", m.detail)
	return m.wrap(m.verify(mux))
}

type mediationReply struct {
	Code string `json:"code"`
	Msg  string `json:"msg"`
	Data any    `json:"data,omitempty"`
}

// verify checks the request signature; like the real system it answers HTTP 200
// with a business error code.
func (m *Mediation) verify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts := r.Header.Get("X-Timestamp")
		sum := md5.Sum([]byte(r.Header.Get("X-App-Id") + ts + m.Secret))
		if r.Header.Get("X-App-Id") != m.AppID || r.Header.Get("X-Sign") != hex.EncodeToString(sum[:]) {
			m.writeJSON(w, http.StatusOK, mediationReply{Code: "4001", Msg: "签名校验失败"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (m *Mediation) page(w http.ResponseWriter, r *http.Request) {
	var req struct {
		PageNo              int   `json:"pageNo"`
		PageSize            int   `json:"pageSize"`
		LastModifyTimeStart int64 `json:"lastModifyTimeStart"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.PageNo < 1 || req.PageSize < 1 || req.PageSize > 200 {
		m.writeJSON(w, http.StatusOK, mediationReply{Code: "4000", Msg: "请求参数错误"})
		return
	}
	list, total := m.cases.since(time.UnixMilli(req.LastModifyTimeStart), (req.PageNo-1)*req.PageSize, req.PageSize)
	list = damage(&m.faultSwitch, list, olderCase)
	if list == nil {
		list = []*world.MediationCase{}
	}
	m.writeJSON(w, http.StatusOK, mediationReply{Code: "0000", Msg: "成功", Data: map[string]any{"total": total, "list": list}})
}

func (m *Mediation) detail(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CaseNo string `json:"caseNo"`
	}
	json.NewDecoder(r.Body).Decode(&req)
	c, ok := m.cases.get(req.CaseNo)
	if !ok {
		m.writeJSON(w, http.StatusOK, mediationReply{Code: "4004", Msg: "案件不存在"})
		return
	}
	m.writeJSON(w, http.StatusOK, mediationReply{Code: "0000", Msg: "成功", Data: c})
}

// olderCase is an earlier version of a case: still being mediated an hour before.
func olderCase(c *world.MediationCase) *world.MediationCase {
	if c.Malformed != "" {
		return c // a broken record's older version is as broken
	}
	old := *c
	old.CaseStatus, old.MediateResult, old.FinishTime = "调解中", "", nil
	old.LastModifyTime = c.LastModifyTime - time.Hour.Milliseconds()
	return &old
}
