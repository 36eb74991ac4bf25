package sim

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"time"

	"fengqiao/tools/world"
)

// Court simulates the court's case exchange platform (法院民商事立案): XML over
// HTTP with Basic authentication, pageNo/pageSize paging and an inclusive
// gxsjStart cursor. Errors come as a non-zero <code> in the XML.
type Court struct {
	faultSwitch
	User, Password string
	cases          *ledger[*world.CourtCase]
}

// NewCourt serves the world's filings to user:password.
func NewCourt(w *world.World, user, password string) *Court {
	return &Court{User: user, Password: password, cases: newLedger(w.Court, courtKey)}
}

func courtKey(c *world.CourtCase) (time.Time, string) { return c.Updated, c.AH }

// Put adds or updates a filing.
func (c *Court) Put(cs *world.CourtCase) { c.cases.put(cs) }

// Len returns how many filings the platform holds.
func (c *Court) Len() int { return c.cases.len() }

// Handler returns the platform's HTTP API.
func (c *Court) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /court/api/v1/ajxx", c.list)
	mux.HandleFunc("GET /court/api/v1/ajxx/detail", c.detail)
	return c.wrap(c.authorize(mux))
}

type courtReply struct {
	XMLName xml.Name           `xml:"response"`
	Code    int                `xml:"code"`
	Msg     string             `xml:"msg"`
	Total   int                `xml:"total"`
	Cases   []*world.CourtCase `xml:"cases>case"`
}

func (c *Court) writeXML(w http.ResponseWriter, status int, v courtReply) {
	b, _ := xml.Marshal(v)
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(c.drift(b))
}

func (c *Court) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != c.User || p != c.Password {
			w.Header().Set("WWW-Authenticate", `Basic realm="court"`)
			c.writeXML(w, http.StatusUnauthorized, courtReply{Code: 401, Msg: "认证失败"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (c *Court) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("pageNo"))
	size, _ := strconv.Atoi(q.Get("pageSize"))
	if page < 1 || size < 1 || size > 200 {
		c.writeXML(w, http.StatusOK, courtReply{Code: 400, Msg: "分页参数错误"})
		return
	}
	var since time.Time
	if s := q.Get("gxsjStart"); s != "" {
		t, err := time.ParseInLocation(world.HotlineTimeLayout, s, world.CST)
		if err != nil {
			c.writeXML(w, http.StatusOK, courtReply{Code: 400, Msg: "gxsjStart格式错误"})
			return
		}
		since = t
	}
	cases, total := c.cases.since(since, (page-1)*size, size)
	cases = damage(&c.faultSwitch, cases, func(cs *world.CourtCase) *world.CourtCase {
		if cs.Malformed != "" {
			return cs // a broken record's older version is as broken
		}
		old := *cs
		old.AJZT, old.JARQ, old.JAFS = "审理中", "", ""
		old.Updated = cs.Updated.Add(-time.Hour)
		old.GXSJ = old.Updated.In(world.CST).Format(world.HotlineTimeLayout)
		return &old
	})
	c.writeXML(w, http.StatusOK, courtReply{Code: 0, Msg: "成功", Total: total, Cases: cases})
}

func (c *Court) detail(w http.ResponseWriter, r *http.Request) {
	cs, ok := c.cases.get(r.URL.Query().Get("ah"))
	if !ok {
		c.writeXML(w, http.StatusNotFound, courtReply{Code: 404, Msg: "案件不存在"})
		return
	}
	c.writeXML(w, http.StatusOK, courtReply{Code: 0, Msg: "成功", Total: 1, Cases: []*world.CourtCase{cs}})
}
