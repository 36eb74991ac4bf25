package sim

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"fengqiao"
	"fengqiao/tools/world"
)

// Mediation simulates the grid mediation ledger of 基层智治综合应用: POST with JSON
// bodies, requests signed with md5(appId+timestamp+secret), errors reported as a
// business code inside an HTTP 200, and an inclusive lastModifyTimeStart cursor.
// Its write side creates tasks (交办/督办) on cases; it knows no idempotency key, so
// a repeated create makes a second task: a caller looks its bizNo up first.
type Mediation struct {
	faultSwitch
	AppID, Secret string
	cases         *ledger[*world.MediationCase]
	tree          *fengqiao.OrgTree

	mu    sync.Mutex
	tasks []*MediationTask
}

// NewMediation serves the world's mediation cases to the app appID signing with secret.
func NewMediation(w *world.World, appID, secret string) *Mediation {
	return &Mediation{AppID: appID, Secret: secret, cases: newLedger(w.Mediation, mediationKey), tree: w.Tree}
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
	mux.HandleFunc("POST /openapi/mediation/task/create", m.createTask)
	mux.HandleFunc("POST /openapi/mediation/task/query", m.queryTask)
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

// MediationTask is a task (交办/督办) on a case, as the ledger serves it.
type MediationTask struct {
	TaskID           string `json:"taskId"`
	BizNo            string `json:"bizNo"` // the caller's business number
	CaseNo           string `json:"caseNo"`
	TaskType         string `json:"taskType"` // 交办/督办
	UndertakeOrgCode string `json:"undertakeOrgCode"`
	UrgentLevel      string `json:"urgentLevel"` // 1 一般, 2 紧急, 3 特急
	Deadline         int64  `json:"deadline"`
	TaskContent      string `json:"taskContent"`
	DisputeCode      string `json:"disputeCode,omitempty"`
	TaskStatus       string `json:"taskStatus"` // 办理中/已办结
	CreateTime       int64  `json:"createTime"`
}

// createTask serves POST /openapi/mediation/task/create: {"bizNo","caseNo",
// "taskType" 交办/督办,"undertakeOrgCode" (town, village or grid),"urgentLevel",
// "deadline" (epoch ms),"taskContent","disputeCode" 解纷码}. It answers the new
// task's id. The case shows the unit and the 解纷码, and a 交办 marks it 已交办.
// Every call makes a task, a repeat included.
func (m *Mediation) createTask(w http.ResponseWriter, r *http.Request) {
	var t MediationTask
	refuse := func(code, msg string) { m.writeJSON(w, http.StatusOK, mediationReply{Code: code, Msg: msg}) }
	if err := json.NewDecoder(r.Body).Decode(&t); err != nil || strings.TrimSpace(t.BizNo) == "" || strings.TrimSpace(t.TaskContent) == "" {
		refuse("4000", "请求参数错误：bizNo、taskContent不能为空")
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cases.get(t.CaseNo)
	unit := m.tree.Unit(t.UndertakeOrgCode)
	switch {
	case !ok:
		refuse("4004", "案件不存在")
	case c.CaseStatus == "调解成功" || c.CaseStatus == "调解不成功" || c.CaseStatus == "已归档":
		refuse("4005", "案件已办结（"+c.CaseStatus+"），不能"+t.TaskType)
	case t.TaskType != "交办" && t.TaskType != "督办":
		refuse("4000", "请求参数错误：任务类型应为交办或督办")
	case unit == nil || unit.Level == fengqiao.LevelCounty:
		refuse("4006", "承办单位编码无效："+t.UndertakeOrgCode)
	case t.Deadline <= 0:
		refuse("4000", "请求参数错误：办理时限不能为空")
	default:
		next := *c
		if t.TaskType == "交办" {
			next.CaseStatus = "已交办"
		}
		next.UndertakeOrgCode, next.DisputeCode = unit.Code, t.DisputeCode
		next.LastModifyTime = later(time.UnixMilli(c.LastModifyTime)).UnixMilli()
		m.cases.put(&next)
		t.TaskID = fmt.Sprintf("RW%s%05d", time.UnixMilli(next.LastModifyTime).In(world.CST).Format("20060102"), len(m.tasks)+1)
		t.TaskStatus, t.CreateTime = "办理中", next.LastModifyTime
		m.tasks = append(m.tasks, &t)
		m.writeJSON(w, http.StatusOK, mediationReply{Code: "0000", Msg: "成功", Data: map[string]string{"taskId": t.TaskID}})
	}
}

// queryTask serves POST /openapi/mediation/task/query: {"bizNo"} or {"caseNo"},
// answering every task made under it, oldest first.
func (m *Mediation) queryTask(w http.ResponseWriter, r *http.Request) {
	var req struct {
		BizNo  string `json:"bizNo"`
		CaseNo string `json:"caseNo"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.BizNo == "" && req.CaseNo == "" {
		m.writeJSON(w, http.StatusOK, mediationReply{Code: "4000", Msg: "请求参数错误：bizNo、caseNo至少填写一项"})
		return
	}
	list := m.Tasks(req.BizNo, req.CaseNo)
	m.writeJSON(w, http.StatusOK, mediationReply{Code: "0000", Msg: "成功", Data: map[string]any{"total": len(list), "list": list}})
}

// Tasks returns the tasks made under a business number, or on a case when bizNo
// is "": what the ledger holds, however often it was asked.
func (m *Mediation) Tasks(bizNo, caseNo string) []MediationTask {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := []MediationTask{}
	for _, t := range m.tasks {
		if bizNo != "" && t.BizNo == bizNo || bizNo == "" && t.CaseNo == caseNo {
			list = append(list, *t)
		}
	}
	return list
}

// Complete ends a case as its mediators do (调解成功), with the result of the
// mediation, and its open tasks with it (已办结).
func (m *Mediation) Complete(caseNo, result string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cases.get(caseNo)
	if !ok {
		return fmt.Errorf("案件不存在：%s", caseNo)
	}
	next := *c
	next.LastModifyTime = later(time.UnixMilli(c.LastModifyTime)).UnixMilli()
	finish := next.LastModifyTime
	next.CaseStatus, next.MediateResult, next.FinishTime = "调解成功", result, &finish
	m.cases.put(&next)
	for _, t := range m.tasks {
		if t.CaseNo == caseNo {
			t.TaskStatus = "已办结"
		}
	}
	return nil
}
