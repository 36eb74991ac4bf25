package manifest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"fengqiao"
	"fengqiao/connectors"
)

// Connector runs a manifest.
type Connector struct {
	connectors.Base
	m      *Manifest
	tokens *connectors.TokenSource // for bearer auth
	log    *slog.Logger
}

var _ fengqiao.Connector = (*Connector)(nil)

// New returns the connector a parsed manifest describes.
func New(m *Manifest, log *slog.Logger) *Connector {
	cfg := m.Upstream
	if m.RateLimit > 0 {
		cfg.RateLimit = m.RateLimit
	}
	c := &Connector{m: m, Base: connectors.NewBase(m.Name, m.Title, m.Source, cfg, log), log: log}
	if b := m.Auth.Bearer; b != nil {
		c.tokens = &connectors.TokenSource{Upstream: c.Upstream, URL: m.BaseURL + b.TokenURL, ClientID: b.ClientID, ClientSecret: b.ClientSecret}
	}
	return c
}

// Sync implements fengqiao.Connector.
func (c *Connector) Sync(ctx context.Context, cursor string) (*fengqiao.SyncBatch, error) {
	body, cur, err := c.list(ctx, cursor)
	if err != nil {
		return nil, err
	}
	raws, err := c.Page(body)
	if err != nil {
		return nil, err
	}
	batch := c.mapPage(raws)
	if p := c.m.Pagination; p.Type == "token" {
		var resp any
		json.Unmarshal(body, &resp)
		next, _ := lookup(resp, p.NextToken).(string)
		if next == "" && len(raws) >= p.Size {
			if err := c.errNoNextToken(resp, len(raws)); err != nil {
				return nil, err
			}
		}
		if next == "" {
			next = cursor
		}
		batch.Next, batch.More = next, len(raws) > 0 && next != cursor
		return batch, nil
	}
	if c.m.Pagination.Type == "sinceId" {
		return c.sinceIDBatch(batch, raws, cursor)
	}
	var times []time.Time
	for _, raw := range raws {
		var rec any
		if json.Unmarshal(raw, &rec) == nil {
			if t, err := parseTime(lookup(rec, c.m.Cursor.Field), c.m.Cursor.Format); err == nil {
				times = append(times, t)
			}
		}
	}
	full := len(raws) >= c.m.Pagination.Size
	next, stop := cur.AdvancePage(times, full, time.Now())
	batch.Next, batch.More = next.String(), full && !stop
	return batch, nil
}

// sinceIDBatch completes the batch of a sinceId page read at cursor: the next
// cursor is the largest id of the page (quarantined records included: they were
// read), and a full page means more. A full page that does not move the cursor
// (the app ignored idParam, or its ids do not increase) is an error, not the end:
// else the connector would read that page for ever, reporting itself caught up.
func (c *Connector) sinceIDBatch(batch *fengqiao.SyncBatch, raws []json.RawMessage, cursor string) (*fengqiao.SyncBatch, error) {
	cur, err := connectors.ParseIDCursor(cursor)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, raw := range raws {
		var rec any
		if json.Unmarshal(raw, &rec) == nil {
			if id, err := c.m.compiled.id.str(rec, nil); err == nil {
				ids = append(ids, strings.TrimSpace(id))
			}
		}
	}
	if reason := c.idsOutOfOrder(ids); reason != "" {
		return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s", reason)
	}
	next := cur.Advance(ids)
	full := len(raws) >= c.m.Pagination.Size
	if full && next == cur {
		return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s返回了满页（%d 条），但记录编号都不大于 %s=%s：上游可能没有按 %s 过滤，或编号不递增",
			c.m.Title, len(raws), c.m.Pagination.IDParam, cur.After, c.m.Pagination.IDParam)
	}
	batch.Next, batch.More = next.String(), full
	return batch, nil
}

// idsOutOfOrder says why a sinceId page's ids do not increase, "" if they do. A
// page newest first would move the cursor past the records it left for later
// pages, which would never be read.
func (c *Connector) idsOutOfOrder(ids []string) string {
	for i := 1; i < len(ids); i++ {
		if connectors.CompareIDs(ids[i-1], ids[i]) >= 0 {
			return fmt.Sprintf("%s的记录没有按编号递增排列（%s 之后是 %s）：sinceId 分页要求上游按编号从小到大返回 %s 之后的记录，否则会漏读",
				c.m.Title, ids[i-1], ids[i], c.m.Pagination.IDParam)
		}
	}
	return ""
}

// DefaultOrgCode implements connectors.DefaultPlacement: the manifest's
// defaultOrgCode.
func (c *Connector) DefaultOrgCode() string { return c.m.DefaultOrgCode }

var _ connectors.DefaultPlacement = (*Connector)(nil)

// FirstPage returns the response to the first list request, as a first sync sends it.
func (c *Connector) FirstPage(ctx context.Context) ([]byte, error) {
	body, _, err := c.list(ctx, "")
	return body, err
}

// list sends the list request for a cursor.
func (c *Connector) list(ctx context.Context, cursor string) ([]byte, connectors.TimeCursor, error) {
	p, q := c.m.Pagination, url.Values{}
	for k, v := range c.m.Request.Query {
		q.Set(k, v)
	}
	if p.SizeParam != "" { // page paging always, token and sinceId when the app takes it
		q.Set(p.SizeParam, strconv.Itoa(p.Size))
	}
	var cur connectors.TimeCursor
	switch p.Type {
	case "token":
		if cursor != "" {
			q.Set(p.TokenParam, cursor)
		}
	case "sinceId":
		since, err := connectors.ParseIDCursor(cursor)
		if err != nil {
			return nil, cur, err
		}
		if since.After != "" {
			q.Set(p.IDParam, since.After)
		}
	default:
		var err error
		if cur, err = connectors.ParseTimeCursor(cursor); err != nil {
			return nil, cur, err
		}
		if !cur.Since.IsZero() {
			q.Set(c.m.Cursor.Param, formatTime(cur.Since, c.m.Cursor.Format))
		}
		if p.Type == "page" {
			q.Set(p.PageParam, strconv.Itoa(cur.Page))
		} else {
			q.Set(p.OffsetParam, strconv.Itoa((cur.Page-1)*p.Size))
			q.Set(p.LimitParam, strconv.Itoa(p.Size))
		}
	}
	body, err := c.get(ctx, c.m.Request.Path+"?"+q.Encode())
	return body, cur, err
}

// Page returns the raw records of a list response.
func (c *Connector) Page(body []byte) ([]json.RawMessage, error) {
	var resp any
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s返回的数据无法解析", c.m.Title)
	}
	list, ok := lookup(resp, c.m.Records).([]any)
	if !ok && lookup(resp, c.m.Records) != nil {
		return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s的响应中 %s 不是记录列表", c.m.Title, c.m.Records)
	}
	raws := make([]json.RawMessage, len(list))
	for i, rec := range list {
		raws[i], _ = json.Marshal(rec)
	}
	return raws, nil
}

// mapPage maps every raw record into an event or a project, or a reject. It
// keeps each record by its id, so that one the hub refuses after mapping is
// quarantined as the upstream sent it, and a replay can map it again.
func (c *Connector) mapPage(raws []json.RawMessage) *fengqiao.SyncBatch {
	batch := &fengqiao.SyncBatch{Raws: map[string]string{}}
	for _, raw := range raws {
		e, p, id, err := c.Map(raw)
		switch {
		case err != nil:
			batch.Rejects = append(batch.Rejects, fengqiao.Reject{SourceID: id, Reason: err.Error(), Raw: string(raw)})
		case e != nil:
			batch.Events = append(batch.Events, e)
			batch.Raws[id] = string(raw)
		case p != nil:
			batch.Projects = append(batch.Projects, p)
			batch.Raws[id] = string(raw)
		}
	}
	return batch
}

// Remap implements fengqiao.Remapper: quarantined records are mapped with the
// manifest as it is now.
func (c *Connector) Remap(raws []string) *fengqiao.SyncBatch {
	page := make([]json.RawMessage, len(raws))
	for i, raw := range raws {
		page[i] = json.RawMessage(raw)
	}
	return c.mapPage(page)
}

// CursorFrom implements fengqiao.Rewinder. Neither a token nor an id cursor can
// say a time: such an app reads again from its first record.
func (c *Connector) CursorFrom(from time.Time) (string, error) {
	if c.m.Pagination.Type == "token" || c.m.Pagination.Type == "sinceId" {
		return "", nil
	}
	return connectors.TimeCursor{Since: from, Page: 1}.String(), nil
}

// Map maps one raw record into an event or a project (as the manifest's target
// says), returning the record's source id as far as it could read it.
func (c *Connector) Map(raw []byte) (*fengqiao.Event, *fengqiao.Project, string, error) {
	var rec any
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, nil, "", fmt.Errorf("记录无法解析：%v", err)
	}
	cm := c.m.compiled
	id, err := cm.id.str(rec, nil)
	if err != nil {
		return nil, nil, "", err
	}
	if strings.TrimSpace(id) == "" {
		return nil, nil, "", fmt.Errorf("记录编号为空")
	}
	if c.m.Target == "project" {
		p, err := c.mapProject(rec)
		if p != nil {
			p.Code = id
		}
		return nil, p, id, err
	}
	e, err := c.mapEvent(rec, id)
	return e, nil, id, err
}

func (c *Connector) mapEvent(rec any, id string) (*fengqiao.Event, error) {
	e := &fengqiao.Event{ID: fengqiao.EventID(c.m.Source, id), Source: c.m.Source, SourceID: id}
	if c.m.Source == fengqiao.SourceApp {
		e.App, e.ID = c.m.Name, fengqiao.AppEventID(c.m.Name, id)
	}
	strs := map[string]*string{"title": &e.Title, "content": &e.Content, "category": &e.Category, "orgCode": &e.OrgCode,
		"address": &e.Address, "outcome": &e.Outcome, "refersTo": &e.RefersTo, "projectCode": &e.ProjectCode}
	times := map[string]*time.Time{"occurredAt": &e.OccurredAt, "reportedAt": &e.ReportedAt, "updatedAt": &e.UpdatedAt}
	optionalTimes := map[string]**time.Time{"deadline": &e.Deadline, "resolvedAt": &e.ResolvedAt}
	var lat, lon *float64
	for _, field := range sortedKeys(c.m.compiled.fields) { // the same record gives the same reason
		prg := c.m.compiled.fields[field]
		switch {
		case strs[field] != nil:
			v, err := prg.str(rec, nil)
			if err != nil {
				return nil, err
			}
			*strs[field] = v
		case times[field] != nil:
			t, err := prg.time(rec)
			if err != nil {
				return nil, err
			}
			*times[field] = t
		case optionalTimes[field] != nil:
			v, err := prg.eval(rec, nil)
			if err != nil {
				return nil, err
			}
			if t, ok := v.(time.Time); ok {
				*optionalTimes[field] = &t
			}
		case field == "lat" || field == "lon":
			n, err := prg.number(rec)
			if err != nil {
				return nil, err
			}
			if field == "lat" {
				lat = &n
			} else {
				lon = &n
			}
		default: // kind, status, handlingLevel
			v, err := prg.str(rec, nil)
			if err != nil {
				return nil, err
			}
			if err := setEnum(e, field, v); err != nil {
				return nil, err
			}
		}
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = e.ReportedAt
	}
	if lat != nil && lon != nil {
		e.Location = &fengqiao.GeoPoint{Lat: *lat, Lon: *lon}
	}
	for _, ca := range c.m.compiled.attributes {
		a, err := ca.attribute(rec)
		if err != nil {
			return nil, err
		}
		if a != nil {
			e.Attributes = append(e.Attributes, *a)
		}
	}
	parties, err := c.mapParties(rec, e.OrgCode)
	e.Parties = parties
	return e, err
}

// setEnum sets kind, status or handling level, refusing values the hub does not know.
func setEnum(e *fengqiao.Event, field, v string) error {
	switch field {
	case "kind":
		for _, k := range fengqiao.EventKinds {
			if string(k) == v {
				e.Kind = k
				return nil
			}
		}
		return fmt.Errorf("event.kind 的值 %q 不是已知的事件类型", v)
	case "status":
		e.Status = fengqiao.EventStatus(v) // checked with the rest by Event.Validate
	case "handlingLevel":
		e.HandlingLevel = fengqiao.HandlingLevel(v)
	}
	return nil
}

func (c *Connector) mapParties(rec any, orgCode string) ([]fengqiao.Party, error) {
	var out []fengqiao.Party
	for _, cp := range c.m.compiled.parties {
		elements := []any{nil}
		if cp.each != nil {
			v, err := cp.each.eval(rec, nil)
			if err != nil {
				return nil, err
			}
			rv := reflect.ValueOf(v)
			if rv.Kind() != reflect.Slice {
				return nil, fmt.Errorf("%s 应为列表", cp.each.field)
			}
			elements = elements[:0]
			for i := range rv.Len() {
				elements = append(elements, rv.Index(i).Interface())
			}
		}
		for _, el := range elements {
			if cp.when != nil {
				ok, err := cp.when.eval(rec, el)
				if err != nil {
					return nil, err
				}
				if ok != true {
					continue
				}
			}
			var role string
			if cp.role != nil {
				r, err := cp.role.str(rec, el)
				if err != nil {
					return nil, err
				}
				role = r
			}
			vals := map[string]string{}
			fields := mergeMaps(cp.person, cp.org)
			for _, f := range sortedKeys(fields) {
				prg := fields[f]
				v, err := prg.str(rec, el)
				if err != nil {
					return nil, err
				}
				vals[f] = v
			}
			p := fengqiao.Party{Role: role}
			if len(cp.person) > 0 {
				account := fengqiao.Identifier{Scheme: fengqiao.AccountScheme(c.m.Name), Value: vals["account"]}
				p.Person = fengqiao.NewPerson(vals["name"], vals["idNumber"], vals["phone"], orgCode, account)
			} else {
				p.Organization = fengqiao.NewOrganization(vals["name"], vals["creditCode"])
			}
			if p.PartyID() == "" {
				continue // no party named
			}
			out = append(out, p)
		}
	}
	return out, nil
}

func mergeMaps(a, b map[string]program) map[string]program {
	out := map[string]program{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func (c *Connector) mapProject(rec any) (*fengqiao.Project, error) {
	p := &fengqiao.Project{}
	owner := map[string]string{}
	for _, field := range sortedKeys(c.m.compiled.fields) {
		prg := c.m.compiled.fields[field]
		switch field {
		case "updatedAt":
			t, err := prg.time(rec)
			if err != nil {
				return nil, err
			}
			p.UpdatedAt = t
		case "progress":
			n, err := prg.number(rec)
			if err != nil {
				return nil, err
			}
			p.Progress = int(n)
		default:
			v, err := prg.str(rec, nil)
			if err != nil {
				return nil, err
			}
			switch field {
			case "name":
				p.Name = v
			case "class":
				p.Class = v
			case "subclass":
				p.Subclass = v
			case "orgCode":
				p.OrgCode = v
			case "address":
				p.Address = v
			case "ownerName", "ownerCreditCode":
				owner[field] = v
			}
		}
	}
	if owner["ownerName"] != "" || owner["ownerCreditCode"] != "" {
		p.Owner = fengqiao.NewOrganization(owner["ownerName"], owner["ownerCreditCode"])
	}
	return p, nil
}

// Fetch implements fengqiao.Connector.
func (c *Connector) Fetch(ctx context.Context, sourceID string) (*fengqiao.Event, error) {
	if c.m.Detail == nil || c.m.Target != "event" {
		return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s未配置实时读取（detail）", c.m.Title)
	}
	body, err := c.get(ctx, strings.ReplaceAll(c.m.Detail.Path, "{id}", url.PathEscape(sourceID)))
	if err != nil {
		return nil, err
	}
	var resp any
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s返回的数据无法解析", c.m.Title)
	}
	raw, _ := json.Marshal(lookup(resp, c.m.Detail.Record))
	e, _, _, err := c.Map(raw)
	return e, err
}

// get sends an authenticated GET of a path with its query.
func (c *Connector) get(ctx context.Context, uri string) ([]byte, error) {
	call := connectors.Call{Method: http.MethodGet, URL: c.m.BaseURL + uri, Header: http.Header{}}
	c.authorize(&call, uri, nil, time.Now())
	if c.m.Auth.Bearer != nil {
		return c.tokens.Do(ctx, call)
	}
	return c.Upstream.Do(ctx, call)
}

// authorize adds the API key or the HMAC signature (over the body, if any) to a
// call of uri (path and query); bearer tokens are added as the call is sent.
func (c *Connector) authorize(call *connectors.Call, uri string, body []byte, now time.Time) {
	a := c.m.Auth
	switch {
	case a.APIKey != nil:
		call.Header.Set(a.APIKey.Header, a.APIKey.Value)
	case a.HMAC != nil:
		ts := strconv.FormatInt(now.Unix(), 10)
		text := strings.NewReplacer("{method}", call.Method, "{uri}", uri, "{ts}", ts, "{body}", string(body), `\n`, "\n").Replace(a.HMAC.Sign)
		mac := hmac.New(sha256.New, []byte(a.HMAC.Secret))
		mac.Write([]byte(text))
		call.Header.Set(a.HMAC.KeyHeader, a.HMAC.Key)
		call.Header.Set(a.HMAC.TimestampHeader, ts)
		call.Header.Set(a.HMAC.SignatureHeader, hex.EncodeToString(mac.Sum(nil)))
	}
}

// lookup follows a dotted path ("data.items") into decoded JSON; "" is v itself.
func lookup(v any, path string) any {
	if path == "" {
		return v
	}
	for _, key := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[key]
	}
	return v
}

// formatTime writes a cursor time as the upstream's since parameter expects.
func formatTime(t time.Time, format string) string {
	switch format {
	case "unix":
		return strconv.FormatInt(t.Unix(), 10)
	case "unixms":
		return strconv.FormatInt(t.UnixMilli(), 10)
	case "rfc3339":
		return t.In(connectors.CST).Format(time.RFC3339)
	}
	return t.In(connectors.CST).Format(format)
}
