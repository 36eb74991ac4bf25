// Package mediation connects the grid mediation ledger (矛盾纠纷调处台账) of
// 基层智治综合应用: signed JSON POSTs, business error codes inside HTTP 200, epoch
// millisecond times, and a lastModifyTimeStart cursor. It is the source of the
// resolution-by-level figures (村级、镇级、县级化解). Its task API receives the hub's
// orders (see Dispatch).
package mediation

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"fengqiao"
	"fengqiao/connectors"
)

// Config configures the connector.
type Config struct {
	BaseURL string `json:"baseURL"`
	AppID   string `json:"appId"`
	Secret  string `json:"secret"`
	// PageSize is how many cases one batch asks for (the ledger allows 200). Default 100.
	PageSize int                       `json:"pageSize"`
	Upstream connectors.UpstreamConfig `json:"upstream"`
}

// Connector reads mediation cases.
type Connector struct {
	connectors.Base
	cfg Config
	now func() time.Time
}

var _ fengqiao.Connector = (*Connector)(nil)

// New returns the connector for cfg.
func New(cfg Config, log *slog.Logger) *Connector {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	return &Connector{cfg: cfg, now: time.Now, Base: connectors.NewBase("mediation", "基层智治矛盾纠纷调处台账", fengqiao.SourceMediation, cfg.Upstream, log)}
}

type caseRecord struct {
	CaseNo         string  `json:"caseNo"`
	CaseTitle      string  `json:"caseTitle"`
	CaseDesc       string  `json:"caseDesc"`
	DisputeType    string  `json:"disputeType"`
	OccurTime      int64   `json:"occurTime"`
	AcceptTime     int64   `json:"acceptTime"`
	GridCode       string  `json:"gridCode"`
	Address        string  `json:"address"`
	HandleLevel    string  `json:"handleLevel"`
	CaseStatus     string  `json:"caseStatus"`
	FinishTime     *int64  `json:"finishTime"`
	LastModifyTime int64   `json:"lastModifyTime"`
	Parties        []party `json:"parties"`
	DisputeCode    string  `json:"disputeCode"` // 解纷码, once a task was made on a hub's order
}

type party struct {
	PartyType  string `json:"partyType"`
	PartyRole  string `json:"partyRole"`
	Name       string `json:"name"`
	IDCard     string `json:"idCard"`
	Phone      string `json:"phone"`
	CreditCode string `json:"creditCode"`
}

type reply[T any] struct {
	Code string `json:"code"`
	Msg  string `json:"msg"`
	Data T      `json:"data"`
}

type pageData struct {
	Total int               `json:"total"`
	List  []json.RawMessage `json:"list"`
}

// Sync implements fengqiao.Connector.
func (c *Connector) Sync(ctx context.Context, cursor string) (*fengqiao.SyncBatch, error) {
	cur, err := connectors.ParseTimeCursor(cursor)
	if err != nil {
		return nil, err
	}
	req := map[string]any{"pageNo": cur.Page, "pageSize": c.cfg.PageSize}
	if !cur.Since.IsZero() {
		req["lastModifyTimeStart"] = cur.Since.UnixMilli()
	}
	var r reply[pageData]
	if err := c.post(ctx, "/openapi/mediation/case/page", req, &r); err != nil {
		return nil, err
	}
	batch := connectors.MapTimePage[caseRecord](cur, r.Data.List, c.cfg.PageSize, json.Unmarshal)
	batch.Remaining = connectors.PageRemaining(cur, r.Data.Total, c.cfg.PageSize, len(r.Data.List))
	return batch, nil
}

// Fetch implements fengqiao.Connector.
func (c *Connector) Fetch(ctx context.Context, sourceID string) (*fengqiao.Event, error) {
	var r reply[caseRecord]
	if err := c.post(ctx, "/openapi/mediation/case/detail", map[string]string{"caseNo": sourceID}, &r); err != nil {
		return nil, err
	}
	return r.Data.Event()
}

// send signs and sends a request and returns the reply's body.
func (c *Connector) send(ctx context.Context, path string, body any) ([]byte, error) {
	ts := strconv.FormatInt(c.now().UnixMilli(), 10)
	sum := md5.Sum([]byte(c.cfg.AppID + ts + c.cfg.Secret))
	return c.Upstream.Do(ctx, connectors.Call{Method: http.MethodPost, URL: c.cfg.BaseURL + path, Body: body,
		Header: http.Header{"X-App-Id": {c.cfg.AppID}, "X-Timestamp": {ts}, "X-Sign": {hex.EncodeToString(sum[:])}}})
}

// post signs and sends a request and checks the business code of the reply.
func (c *Connector) post(ctx context.Context, path string, body, out any) error {
	b, err := c.send(ctx, path, body)
	if err != nil {
		return err
	}
	var head reply[json.RawMessage]
	if err := json.Unmarshal(b, &head); err != nil {
		return fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s返回的数据无法解析", c.Title())
	}
	switch head.Code {
	case "0000":
	case "4004":
		return fengqiao.Errorf(fengqiao.ENOTFOUND, "%s中不存在该案件", c.Title())
	default:
		return fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s拒绝请求：%s（%s）", c.Title(), head.Msg, head.Code)
	}
	return json.Unmarshal(b, out)
}

var statuses = map[string]fengqiao.EventStatus{
	"已受理": fengqiao.StatusReceived, "已交办": fengqiao.StatusDispatched, "调解中": fengqiao.StatusInProgress,
	"调解成功": fengqiao.StatusResolved, "调解不成功": fengqiao.StatusResolved, "已归档": fengqiao.StatusClosed,
}

var levels = map[string]fengqiao.HandlingLevel{
	"村级": fengqiao.HandlingVillage, "镇级": fengqiao.HandlingTown, "县级": fengqiao.HandlingCounty, "网格": fengqiao.HandlingGrid,
}

func (r caseRecord) SourceID() string { return r.CaseNo }

func (r caseRecord) UpdatedAt() (time.Time, bool) {
	return time.UnixMilli(r.LastModifyTime), r.LastModifyTime > 0
}

// Event maps a case, or says in Chinese why it cannot.
func (r caseRecord) Event() (*fengqiao.Event, error) {
	switch {
	case strings.TrimSpace(r.CaseNo) == "":
		return nil, fmt.Errorf("缺少案件编号")
	case r.AcceptTime <= 0:
		return nil, fmt.Errorf("缺少受理时间")
	case r.LastModifyTime <= 0:
		return nil, fmt.Errorf("缺少最后修改时间")
	}
	status, ok := statuses[r.CaseStatus]
	if !ok {
		return nil, fmt.Errorf("未知的案件状态：%q", r.CaseStatus)
	}
	accept := time.UnixMilli(r.AcceptTime)
	occur := accept
	if r.OccurTime > 0 {
		occur = time.UnixMilli(r.OccurTime)
	}
	e := &fengqiao.Event{
		ID: fengqiao.EventID(fengqiao.SourceMediation, r.CaseNo), Source: fengqiao.SourceMediation, SourceID: r.CaseNo,
		Kind: fengqiao.KindDispute, Title: r.CaseTitle, Content: r.CaseDesc, Category: r.DisputeType,
		OccurredAt: occur, ReportedAt: accept, Status: status, HandlingLevel: levels[r.HandleLevel],
		OrgCode: r.GridCode, Address: r.Address, OrderCode: r.DisputeCode, UpdatedAt: time.UnixMilli(r.LastModifyTime),
	}
	if r.FinishTime != nil && *r.FinishTime > 0 {
		t := time.UnixMilli(*r.FinishTime)
		e.ResolvedAt = &t
	}
	for _, p := range r.Parties {
		ep := fengqiao.Party{Role: p.PartyRole}
		if p.PartyType == "2" {
			ep.Organization = fengqiao.NewOrganization(p.Name, p.CreditCode)
		} else {
			ep.Person = fengqiao.NewPerson(p.Name, p.IDCard, p.Phone, r.GridCode)
		}
		e.Parties = append(e.Parties, ep)
	}
	return e, nil
}
