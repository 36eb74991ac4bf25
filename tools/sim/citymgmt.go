package sim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"fengqiao/tools/world"
)

// CityMgmt simulates the city-management enforcement platform (智慧城管执法): an
// API key header and a change feed paged by an opaque nextToken. The token of the
// last page, kept, later yields the changes made since.
type CityMgmt struct {
	faultSwitch
	APIKey string
	cases  *feed[*world.CityCase]
}

// NewCityMgmt serves the world's enforcement cases in update order.
func NewCityMgmt(w *world.World, apiKey string) *CityMgmt {
	c := &CityMgmt{APIKey: apiKey, cases: newFeed(func(c *world.CityCase) string { return c.CaseID })}
	for _, cs := range inUpdateOrder(w.City, func(c *world.CityCase) (time.Time, string) { return c.Updated, c.CaseID }) {
		c.Put(cs)
	}
	return c
}

// Put appends a new version of a case.
func (c *CityMgmt) Put(cs *world.CityCase) {
	c.cases.put(func(int) *world.CityCase { return cs })
}

// Len returns how many cases the platform holds.
func (c *CityMgmt) Len() int { return c.cases.len() }

// Handler returns the platform's HTTP API.
func (c *CityMgmt) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/cases", c.list)
	mux.HandleFunc("GET /api/v2/cases/{caseId}", c.detail)
	return c.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-CG-Key") != c.APIKey {
			c.writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "无效的接入密钥"})
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

func (c *CityMgmt) list(w http.ResponseWriter, r *http.Request) {
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit < 1 || limit > 200 {
		limit = 50
	}
	pos := 0
	if tok := r.URL.Query().Get("nextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "cg:"))
		if err != nil || err2 != nil {
			c.writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_token", "message": "nextToken无效"})
			return
		}
		pos = n
	}
	items, last := c.cases.after(pos, limit)
	next := min(pos+len(items), last)
	items = damage(&c.faultSwitch, items, func(cs *world.CityCase) *world.CityCase {
		if cs.Malformed != "" {
			return cs // a broken record's older version is as broken
		}
		old := *cs
		old.Status, old.Result, old.FinishTime = "2", "", ""
		old.Updated = cs.Updated.Add(-time.Hour)
		old.UpdateTime = old.Updated.In(world.CST).Format(time.RFC3339)
		return &old
	})
	if items == nil {
		items = []*world.CityCase{}
	}
	c.writeJSON(w, http.StatusOK, map[string]any{"items": items,
		"nextToken": base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "cg:%d", next))})
}

func (c *CityMgmt) detail(w http.ResponseWriter, r *http.Request) {
	cs, ok := c.cases.get(r.PathValue("caseId"))
	if !ok {
		c.writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "message": "案件不存在"})
		return
	}
	c.writeJSON(w, http.StatusOK, cs)
}
