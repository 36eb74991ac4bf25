// Package police110 connects the police platform's 110 incident feed
// (110纠纷类警情): OAuth2 client-credentials tokens that expire and are refreshed, a
// change feed read by sequence number, and only dispute incidents taken in.
package police110

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
	BaseURL      string `json:"baseURL"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	// PageSize is how many changes one batch asks for. Default 200.
	PageSize int                       `json:"pageSize"`
	Upstream connectors.UpstreamConfig `json:"upstream"`
}

// Connector reads dispute incidents.
type Connector struct {
	connectors.Base
	cfg    Config
	client *connectors.TokenSource
}

var _ fengqiao.Connector = (*Connector)(nil)

// New returns the connector for cfg.
func New(cfg Config, log *slog.Logger) *Connector {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 200
	}
	base := connectors.NewBase("police110", "110纠纷类警情", fengqiao.SourcePolice110, cfg.Upstream, log)
	return &Connector{Base: base, cfg: cfg,
		client: &connectors.TokenSource{Upstream: base.Upstream, URL: cfg.BaseURL + "/oauth2/token", ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret}}
}

type incident struct {
	Seq  int64   `json:"seq"`
	JQBH string  `json:"jqbh"`
	BJSJ string  `json:"bjsj"`
	JQLB string  `json:"jqlb"`
	JQXL string  `json:"jqxl"`
	JQBT string  `json:"jqbt"`
	BJNR string  `json:"bjnr"`
	FSDZ string  `json:"fsdz"`
	JD   float64 `json:"jd"`
	WD   float64 `json:"wd"`
	BJR  struct {
		XM   string `json:"xm"`
		SFZH string `json:"sfzh"`
		LXDH string `json:"lxdh"`
	} `json:"bjr"`
	CJDW string `json:"cjdw"`
	ZT   string `json:"zt"`
	CJJG string `json:"cjjg"`
	GXSJ string `json:"gxsj"`
}

// Sync implements fengqiao.Connector. The cursor is the last sequence number read.
func (c *Connector) Sync(ctx context.Context, cursor string) (*fengqiao.SyncBatch, error) {
	after := int64(0)
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n < 0 {
			return nil, fengqiao.Errorf(fengqiao.EINVALID, "同步游标无效：%q", cursor)
		}
		after = n
	}
	q := url.Values{"afterSeq": {strconv.FormatInt(after, 10)}, "limit": {strconv.Itoa(c.cfg.PageSize)}}
	body, err := c.client.Do(ctx, connectors.Call{Method: http.MethodGet, URL: c.cfg.BaseURL + "/api/v1/jq/changes?" + q.Encode()})
	if err != nil {
		return nil, err
	}
	var r struct {
		Items   []json.RawMessage `json:"items"`
		LastSeq int64             `json:"lastSeq"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s返回的数据无法解析", c.Title())
	}
	batch, decoded := connectors.MapRecords[incident](r.Items, json.Unmarshal)
	next := after
	for _, i := range decoded {
		next = max(next, i.Seq)
	}
	batch.Next, batch.More = strconv.FormatInt(next, 10), next < r.LastSeq
	batch.Remaining = int(max(0, r.LastSeq-next)) // changes, numbered one by one
	return batch, nil
}

// Fetch implements fengqiao.Connector.
func (c *Connector) Fetch(ctx context.Context, sourceID string) (*fengqiao.Event, error) {
	body, err := c.client.Do(ctx, connectors.Call{Method: http.MethodGet, URL: c.cfg.BaseURL + "/api/v1/jq/" + url.PathEscape(sourceID)})
	if err != nil {
		return nil, err
	}
	var r struct{ Item incident }
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s返回的数据无法解析", c.Title())
	}
	return r.Item.Event()
}

var statuses = map[string]fengqiao.EventStatus{
	"已接警": fengqiao.StatusReceived, "已派警": fengqiao.StatusDispatched, "处置中": fengqiao.StatusInProgress,
	"已处置": fengqiao.StatusResolved, "已反馈": fengqiao.StatusClosed,
}

func (i incident) SourceID() string { return i.JQBH }

// Event maps a dispute incident; other incidents are not the hub's (nil, nil).
// The event is placed by its address.
func (i incident) Event() (*fengqiao.Event, error) {
	if i.JQLB != "纠纷" {
		return nil, nil
	}
	if strings.TrimSpace(i.JQBH) == "" {
		return nil, fmt.Errorf("缺少警情编号")
	}
	called, err := time.Parse(time.RFC3339, i.BJSJ)
	if err != nil {
		return nil, fmt.Errorf("报警时间格式错误：%q", i.BJSJ)
	}
	updated, err := time.Parse(time.RFC3339, i.GXSJ)
	if err != nil {
		return nil, fmt.Errorf("更新时间格式错误：%q", i.GXSJ)
	}
	status, ok := statuses[i.ZT]
	if !ok {
		return nil, fmt.Errorf("未知的警情状态：%q", i.ZT)
	}
	e := &fengqiao.Event{
		ID: fengqiao.EventID(fengqiao.SourcePolice110, i.JQBH), Source: fengqiao.SourcePolice110, SourceID: i.JQBH,
		Kind: fengqiao.KindPoliceCall, Title: i.JQBT, Content: i.BJNR, Category: i.JQXL,
		OccurredAt: called, ReportedAt: called, Status: status, HandlingLevel: fengqiao.HandlingTown,
		Address: i.FSDZ, Outcome: i.CJJG, UpdatedAt: updated,
	}
	if i.JD != 0 || i.WD != 0 {
		e.Location = &fengqiao.GeoPoint{Lat: i.WD, Lon: i.JD}
	}
	if i.BJR.XM != "" {
		e.Parties = []fengqiao.Party{{Role: "报警人", Person: fengqiao.NewPerson(i.BJR.XM, i.BJR.SFZH, i.BJR.LXDH, "")}}
	}
	if status == fengqiao.StatusResolved {
		e.ResolvedAt = &updated
	}
	return e, nil
}
