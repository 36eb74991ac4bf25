// Package hotline12345 connects the 12345 government service hotline's work-order
// system (12345政务服务热线): API-key auth, page/pageSize paging, updatedSince cursor;
// and its 派单/督办 API, which receives the hub's orders (see Dispatch).
package hotline12345

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"fengqiao"
	"fengqiao/connectors"
)

// Config configures the connector.
type Config struct {
	BaseURL string `json:"baseURL"`
	APIKey  string `json:"apiKey"`
	// PageSize is how many work orders one batch asks for. Default 200.
	PageSize int                       `json:"pageSize"`
	Upstream connectors.UpstreamConfig `json:"upstream"`
}

// Connector reads work orders.
type Connector struct {
	connectors.Base
	cfg Config
}

var _ fengqiao.Connector = (*Connector)(nil)

// New returns the connector for cfg.
func New(cfg Config, log *slog.Logger) *Connector {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 200
	}
	return &Connector{cfg: cfg, Base: connectors.NewBase("hotline12345", "12345政务服务热线", fengqiao.SourceHotline12345, cfg.Upstream, log)}
}

// timeLayout is how the hotline writes times, in China Standard Time.
const timeLayout = "2006-01-02 15:04:05"

// workOrder is a work order on the wire.
type workOrder struct {
	GDBH  string `json:"gdbh"`
	LDSJ  string `json:"ldsj"`
	LDRXM string `json:"ldrxm"`
	LXDH  string `json:"lxdh"`
	SQLX  string `json:"sqlx"`
	SQLB  string `json:"sqlb"`
	SQBT  string `json:"sqbt"`
	SQNR  string `json:"sqnr"`
	SFDZ  string `json:"sfdz"`
	QHDM  string `json:"qhdm"`
	BLDW  string `json:"bldw"`
	BLZT  string `json:"blzt"`
	BLQX  string `json:"blqx"`
	BJSJ  string `json:"bjsj"`
	HFJG  string `json:"hfjg"`
	GXSJ  string `json:"gxsj"`
	CBDW  string `json:"cbdw"` // 承办单位代码, once dispatched
	JFM   string `json:"jfm"`  // 解纷码, once dispatched on a hub's order
	BLJG  string `json:"bljg"` // 办理结果
}

type reply[T any] struct {
	Success bool   `json:"success"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	Result  T      `json:"result"`
}

type listResult struct {
	Total   int               `json:"total"`
	Records []json.RawMessage `json:"records"`
}

// Sync implements fengqiao.Connector.
func (c *Connector) Sync(ctx context.Context, cursor string) (*fengqiao.SyncBatch, error) {
	cur, err := connectors.ParseTimeCursor(cursor)
	if err != nil {
		return nil, err
	}
	q := url.Values{"page": {strconv.Itoa(cur.Page)}, "pageSize": {strconv.Itoa(c.cfg.PageSize)}}
	if !cur.Since.IsZero() {
		q.Set("updatedSince", cur.Since.In(connectors.CST).Format(timeLayout))
	}
	var r reply[listResult]
	if err := c.get(ctx, "/api/v1/gd/list?"+q.Encode(), &r); err != nil {
		return nil, err
	}
	batch := connectors.MapTimePage[workOrder](cur, r.Result.Records, c.cfg.PageSize, json.Unmarshal)
	batch.Remaining = connectors.PageRemaining(cur, r.Result.Total, c.cfg.PageSize, len(r.Result.Records))
	return batch, nil
}

// Fetch implements fengqiao.Connector.
func (c *Connector) Fetch(ctx context.Context, sourceID string) (*fengqiao.Event, error) {
	var r reply[workOrder]
	if err := c.get(ctx, "/api/v1/gd/detail?gdbh="+url.QueryEscape(sourceID), &r); err != nil {
		return nil, err
	}
	return r.Result.Event()
}

func (c *Connector) get(ctx context.Context, path string, out any) error {
	body, err := c.Upstream.Do(ctx, connectors.Call{Method: http.MethodGet, URL: c.cfg.BaseURL + path,
		Header: http.Header{"X-Api-Key": {c.cfg.APIKey}}})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s返回的数据无法解析", c.Title())
	}
	return nil
}

// kinds maps 诉求类型 to event kinds.
var kinds = map[string]fengqiao.EventKind{
	"投诉": fengqiao.KindComplaint, "求助": fengqiao.KindRequest, "咨询": fengqiao.KindConsult, "建议": fengqiao.KindSuggestion,
}

// statuses maps 办理状态 to event statuses.
var statuses = map[string]fengqiao.EventStatus{
	"待受理": fengqiao.StatusReceived, "已派单": fengqiao.StatusDispatched, "办理中": fengqiao.StatusInProgress,
	"已办结": fengqiao.StatusResolved, "已归档": fengqiao.StatusClosed,
}

func (o workOrder) SourceID() string { return o.GDBH }

func (o workOrder) UpdatedAt() (time.Time, bool) {
	t, err := parseTime(o.GXSJ)
	return t, err == nil
}

// Event maps a work order, or says in Chinese why it cannot.
func (o workOrder) Event() (*fengqiao.Event, error) {
	if strings.TrimSpace(o.GDBH) == "" {
		return nil, fmt.Errorf("缺少工单编号")
	}
	called, err := parseTime(o.LDSJ)
	if err != nil {
		return nil, fmt.Errorf("来电时间格式错误：%q", o.LDSJ)
	}
	updated, err := parseTime(o.GXSJ)
	if err != nil {
		return nil, fmt.Errorf("更新时间格式错误：%q", o.GXSJ)
	}
	status, ok := statuses[o.BLZT]
	if !ok {
		return nil, fmt.Errorf("未知的办理状态：%q", o.BLZT)
	}
	kind, ok := kinds[o.SQLX]
	if !ok {
		kind = fengqiao.KindRequest
	}
	e := &fengqiao.Event{
		ID: fengqiao.EventID(fengqiao.SourceHotline12345, o.GDBH), Source: fengqiao.SourceHotline12345, SourceID: o.GDBH,
		Kind: kind, Title: o.SQBT, Content: o.SQNR, Category: o.SQLB,
		OccurredAt: called, ReportedAt: called, Status: status, HandlingLevel: handlingLevel(o.BLDW),
		OrgCode: o.QHDM, Address: o.SFDZ, Outcome: o.BLJG, OrderCode: o.JFM, UpdatedAt: updated,
	}
	if o.LDRXM != "" {
		e.Parties = []fengqiao.Party{{Role: "来电人", Person: fengqiao.NewPerson(o.LDRXM, "", o.LXDH, o.QHDM)}}
	}
	if t, err := parseTime(o.BLQX); err == nil {
		e.Deadline = &t
	}
	if t, err := parseTime(o.BJSJ); err == nil {
		e.ResolvedAt = &t
	}
	return e, nil
}

// handlingLevel reads the tier from the handling unit's name.
func handlingLevel(unit string) fengqiao.HandlingLevel {
	switch {
	case strings.HasSuffix(unit, "村委会"), strings.HasSuffix(unit, "居委会"), strings.HasSuffix(unit, "社区"):
		return fengqiao.HandlingVillage
	case strings.Contains(unit, "镇"), strings.Contains(unit, "街道"):
		return fengqiao.HandlingTown
	case unit != "":
		return fengqiao.HandlingCounty
	}
	return ""
}

func parseTime(s string) (time.Time, error) {
	return time.ParseInLocation(timeLayout, s, connectors.CST)
}
