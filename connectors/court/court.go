// Package court connects the court's case exchange platform (法院民商事立案): XML
// over HTTP with Basic authentication, a gxsjStart cursor, case numbers such as
// (2026)浙1081民初1234号, and plaintiffs and defendants as parties.
package court

import (
	"context"
	"encoding/xml"
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
	BaseURL  string `json:"baseURL"`
	User     string `json:"user"`
	Password string `json:"password"`
	// PageSize is how many filings one batch asks for. Default 100.
	PageSize int                       `json:"pageSize"`
	Upstream connectors.UpstreamConfig `json:"upstream"`
}

// Connector reads filings.
type Connector struct {
	connectors.Base
	cfg Config
}

var _ fengqiao.Connector = (*Connector)(nil)

// New returns the connector for cfg.
func New(cfg Config, log *slog.Logger) *Connector {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	return &Connector{cfg: cfg, Base: connectors.NewBase("court", "法院民商事立案", fengqiao.SourceCourt, cfg.Upstream, log)}
}

const (
	timeLayout = "2006-01-02 15:04:05"
	dateLayout = "2006-01-02"
)

// filing is a case on the wire.
type filing struct {
	AH   string  `xml:"ah"`
	AY   string  `xml:"ay"`
	AJMC string  `xml:"ajmc"`
	SSQQ string  `xml:"ssqq"`
	LARQ string  `xml:"larq"`
	JARQ string  `xml:"jarq"`
	AJZT string  `xml:"ajzt"`
	JAFS string  `xml:"jafs"`
	DSR  []party `xml:"dsrList>dsr"`
	GXSJ string  `xml:"gxsj"`
}

type party struct {
	SSDW string `xml:"ssdw"`
	LX   string `xml:"lx"`
	MC   string `xml:"mc"`
	ZJHM string `xml:"zjhm"`
	DZ   string `xml:"dz"`
}

// reply is the platform's envelope; each case is kept as raw XML so that one bad
// case is quarantined alone.
type reply struct {
	Code  int    `xml:"code"`
	Msg   string `xml:"msg"`
	Total int    `xml:"total"` // cases changed since the asked time
	Cases []struct {
		Inner []byte `xml:",innerxml"`
	} `xml:"cases>case"`
}

// Sync implements fengqiao.Connector.
func (c *Connector) Sync(ctx context.Context, cursor string) (*fengqiao.SyncBatch, error) {
	cur, err := connectors.ParseTimeCursor(cursor)
	if err != nil {
		return nil, err
	}
	q := url.Values{"pageNo": {strconv.Itoa(cur.Page)}, "pageSize": {strconv.Itoa(c.cfg.PageSize)}}
	if !cur.Since.IsZero() {
		q.Set("gxsjStart", cur.Since.In(connectors.CST).Format(timeLayout))
	}
	r, err := c.get(ctx, "/court/api/v1/ajxx?"+q.Encode())
	if err != nil {
		return nil, err
	}
	page := make([][]byte, len(r.Cases))
	for i, cs := range r.Cases {
		page[i] = append(append([]byte("<case>"), cs.Inner...), "</case>"...)
	}
	batch := connectors.MapTimePage[filing](cur, page, c.cfg.PageSize, xml.Unmarshal)
	batch.Remaining = connectors.PageRemaining(cur, r.Total, c.cfg.PageSize, len(page))
	return batch, nil
}

// Fetch implements fengqiao.Connector.
func (c *Connector) Fetch(ctx context.Context, sourceID string) (*fengqiao.Event, error) {
	r, err := c.get(ctx, "/court/api/v1/ajxx/detail?ah="+url.QueryEscape(sourceID))
	if err != nil {
		return nil, err
	}
	if len(r.Cases) == 0 {
		return nil, fengqiao.Errorf(fengqiao.ENOTFOUND, "%s中不存在该案件", c.Title())
	}
	var f filing
	if err := xml.Unmarshal(append(append([]byte("<case>"), r.Cases[0].Inner...), "</case>"...), &f); err != nil {
		return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s返回的数据无法解析", c.Title())
	}
	return f.Event()
}

func (c *Connector) get(ctx context.Context, path string) (*reply, error) {
	req := http.Request{Header: http.Header{}}
	req.SetBasicAuth(c.cfg.User, c.cfg.Password)
	body, err := c.Upstream.Do(ctx, connectors.Call{Method: http.MethodGet, URL: c.cfg.BaseURL + path, Header: req.Header})
	if err != nil {
		return nil, err
	}
	var r reply
	if err := xml.Unmarshal(body, &r); err != nil {
		return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s返回的XML无法解析", c.Title())
	}
	if r.Code != 0 {
		return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s拒绝请求：%s（%d）", c.Title(), r.Msg, r.Code)
	}
	return &r, nil
}

var statuses = map[string]fengqiao.EventStatus{
	"已立案": fengqiao.StatusReceived, "审理中": fengqiao.StatusInProgress, "已结案": fengqiao.StatusResolved, "已归档": fengqiao.StatusClosed,
}

func (f filing) SourceID() string { return f.AH }

func (f filing) UpdatedAt() (time.Time, bool) {
	t, err := time.ParseInLocation(timeLayout, f.GXSJ, connectors.CST)
	return t, err == nil
}

// Event maps a filing; it is placed by the address of the first party that has one.
func (f filing) Event() (*fengqiao.Event, error) {
	if strings.TrimSpace(f.AH) == "" {
		return nil, fmt.Errorf("缺少案号")
	}
	filed, err := time.ParseInLocation(dateLayout, f.LARQ, connectors.CST)
	if err != nil {
		return nil, fmt.Errorf("立案日期格式错误：%q", f.LARQ)
	}
	updated, ok := f.UpdatedAt()
	if !ok {
		return nil, fmt.Errorf("更新时间格式错误：%q", f.GXSJ)
	}
	status, ok := statuses[f.AJZT]
	if !ok {
		return nil, fmt.Errorf("未知的案件状态：%q", f.AJZT)
	}
	e := &fengqiao.Event{
		ID: fengqiao.EventID(fengqiao.SourceCourt, f.AH), Source: fengqiao.SourceCourt, SourceID: f.AH,
		Kind: fengqiao.KindLawsuit, Title: f.AJMC, Content: f.SSQQ, Category: f.AY,
		OccurredAt: filed, ReportedAt: filed, Status: status, HandlingLevel: fengqiao.HandlingCounty,
		Outcome: f.JAFS, UpdatedAt: updated,
	}
	if t, err := time.ParseInLocation(dateLayout, f.JARQ, connectors.CST); err == nil {
		e.ResolvedAt = &t
	}
	for _, p := range f.DSR {
		ep := fengqiao.Party{Role: p.SSDW}
		if p.LX == "自然人" {
			ep.Person = fengqiao.NewPerson(p.MC, p.ZJHM, "", "")
		} else {
			ep.Organization = fengqiao.NewOrganization(p.MC, p.ZJHM)
		}
		e.Parties = append(e.Parties, ep)
		if e.Address == "" {
			e.Address = p.DZ
		}
	}
	return e, nil
}
