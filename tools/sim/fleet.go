package sim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"fengqiao"
	"fengqiao/tools/world"
)

// Fleet simulates the long tail of apps the center connects: generated apps,
// each a real HTTP API in a style of its own — page, offset or token paging; an
// updated-since parameter in Unix seconds, milliseconds, RFC 3339 or a Chinese
// date layout; its records under its own envelope and field names (English,
// pinyin initials, snake case or Chinese); an API key, OAuth client credentials
// or an HMAC signature; a rate limit it answers 429 past — with a Chinese title
// and records placed in the real Wenling villages. One server serves them all, an
// app under /{name}/. The same FleetConfig makes the same fleet.
type Fleet struct {
	Apps []*App
	// Secret is the credential every app accepts (API key, client secret, HMAC
	// key): the manifests name it ${FLEET_SECRET}.
	Secret string

	open, peakOpen         atomic.Int64 // connections
	inFlight, peakInFlight atomic.Int64 // requests being answered
}

// FleetConfig says what fleet to make.
type FleetConfig struct {
	Seed int64
	Apps int
	// Records is an average app's record count: each app has between half and one
	// and a half times as many.
	Records int
	// End is when the records' year ends.
	End time.Time
	// MalformedRate is the share of records served with a status code their app's
	// code table does not have: the hub quarantines them.
	MalformedRate float64
}

// App is one generated app of a Fleet.
type App struct {
	faultSwitch
	Name  string // the manifest name: level and department, "wl_scjg"
	Title string // 温岭市市场监管投诉举报平台
	// RateLimit is the requests a second the app serves; past it, 429.
	RateLimit float64

	kind      fengqiao.EventKind
	style     appStyle
	secret    string
	rows      []map[string]any // in update order
	updated   []time.Time      // of each row
	malformed []string         // ids of the rows served broken
	limiter   *rate.Limiter
	overRate  atomic.Int64
	tokens    sync.Map // issued bearer tokens

	mu     sync.Mutex
	served map[string]bool // ids served at least once
}

// appStyle is how an app's API is written.
type appStyle struct {
	path       string // the list request's path
	paging     string // page, offset or token
	pageParams [2]string
	pageSize   int
	since      string // the updated-since parameter (page and offset paging)
	timeFormat string // of the parameter and of the records' times
	records    string // where the list sits in the answer
	next       string // where the next-page token sits (token paging)
	auth       string // apiKey, bearer or hmac
	keyHeader  string // apiKey
	keys       appKeys
	codes      []string // the app's status codes for RECEIVED, IN_PROGRESS, RESOLVED, CLOSED
}

// appKeys are an app's names for its record fields.
type appKeys struct{ id, title, content, category, area, address, reported, updated, status string }

var (
	keyStyles = []appKeys{
		{"id", "title", "content", "category", "areaCode", "address", "createTime", "updateTime", "status"},
		{"bh", "bt", "nr", "lb", "xzqh", "dz", "djsj", "gxsj", "zt"},
		{"record_id", "subject", "detail", "type_name", "region_code", "location", "created_at", "updated_at", "state"},
		{"编号", "标题", "内容", "类别", "区划代码", "地址", "登记时间", "更新时间", "状态"},
	}
	codeStyles = [][]string{{"0", "1", "2", "3"}, {"10", "20", "30", "40"}, {"待受理", "办理中", "已办结", "已关闭"}, {"NEW", "DOING", "DONE", "CLOSED"}}
	// envelopes are where the list sits, and beside it the next-page token.
	envelopes  = [][2]string{{"data.list", "data.nextToken"}, {"rows", "next"}, {"result.items", "result.nextPageToken"}, {"data.records", "data.cursor"}, {"items", "nextToken"}}
	listPaths  = []string{"/api/records", "/api/v1/events", "/open/list", "/gateway/query", "/api/v2/items"}
	sinceNames = []string{"updatedSince", "gxsjStart", "since", "startTime", "beginTime"}
	// timeFormats of the records and the since parameter, as manifests name them.
	timeFormats = []string{"unix", "unixms", "rfc3339", "2006-01-02 15:04:05", "20060102150405"}
	pageParams  = map[string][][2]string{
		"page":   {{"page", "size"}, {"pageNo", "pageSize"}, {"current", "rows"}},
		"offset": {{"offset", "limit"}, {"start", "count"}},
		"token":  {{"pageToken", ""}, {"cursor", ""}},
	}
	keyHeaders = []string{"X-Api-Key", "X-Access-Key", "apikey"}
	rateLimits = []float64{5, 10, 20, 50}
	appLevels  = [][2]string{{"zj", "浙江省"}, {"tz", "台州市"}, {"wl", "温岭市"}}
)

// appDomains are the departments whose apps the fleet draws: code, department,
// system, the kind of event, and the categories of its records.
var appDomains = []struct {
	code, dept, system string
	kind               fengqiao.EventKind
	categories         []string
}{
	{"scjg", "市场监管", "投诉举报平台", fengqiao.KindComplaint, []string{"食品安全", "价格欺诈", "预付卡退费", "虚假宣传"}},
	{"yjgl", "应急管理", "隐患排查系统", fengqiao.KindEnforcement, []string{"安全生产", "危化品", "有限空间", "粉尘涉爆"}},
	{"zjj", "住房和城乡建设", "物业投诉系统", fengqiao.KindComplaint, []string{"物业服务", "电梯故障", "房屋质量", "维修资金"}},
	{"jtys", "交通运输", "出行服务热线", fengqiao.KindRequest, []string{"公交班次", "道路破损", "出租车服务", "客运站"}},
	{"sthj", "生态环境", "环境信访系统", fengqiao.KindComplaint, []string{"废气异味", "噪声扰民", "污水排放", "固废堆放"}},
	{"nync", "农业农村", "农村事务平台", fengqiao.KindRequest, []string{"土地承包", "农资质量", "村务公开", "宅基地审批"}},
	{"wsjk", "卫生健康", "医疗服务投诉系统", fengqiao.KindComplaint, []string{"医疗服务", "药品短缺", "疫苗接种", "收费问题"}},
	{"jy", "教育", "教育服务热线", fengqiao.KindConsult, []string{"招生入学", "校外培训", "校园安全", "学费收取"}},
	{"mz", "民政", "社会救助系统", fengqiao.KindRequest, []string{"低保申请", "养老服务", "殡葬管理", "临时救助"}},
	{"rlsb", "人力社保", "劳动保障监察系统", fengqiao.KindComplaint, []string{"拖欠工资", "社保缴纳", "劳动合同", "工伤认定"}},
	{"xf", "信访", "网上信访系统", fengqiao.KindComplaint, []string{"征地拆迁", "涉法涉诉", "城乡建设", "劳动社保"}},
	{"xfjy", "消防救援", "消防监督检查系统", fengqiao.KindEnforcement, []string{"消防通道堵塞", "电动车违规充电", "消防设施缺失", "群租房隐患"}},
	{"zrzy", "自然资源", "违法用地巡查系统", fengqiao.KindEnforcement, []string{"违法占地", "非法采矿", "违规建房", "耕地保护"}},
	{"sl", "水利", "河湖长制系统", fengqiao.KindEnforcement, []string{"河道垃圾", "违规捕捞", "堤防隐患", "非法排污口"}},
	{"zhzf", "综合行政执法", "执法办案系统", fengqiao.KindEnforcement, []string{"占道经营", "违章搭建", "渣土撒漏", "违规广告"}},
	{"jj", "公安交警", "交通违法举报平台", fengqiao.KindComplaint, []string{"违规停车", "电动车违法", "货车超载", "改装噪音"}},
	{"sf", "司法", "人民调解系统", fengqiao.KindDispute, []string{"邻里纠纷", "婚姻家庭", "合同纠纷", "损害赔偿"}},
	{"wgl", "文化广电旅游", "文旅市场投诉系统", fengqiao.KindComplaint, []string{"旅游纠纷", "网吧经营", "演出市场", "景区服务"}},
	{"tyjr", "退役军人事务", "退役军人服务系统", fengqiao.KindRequest, []string{"优抚待遇", "就业安置", "帮扶援助", "权益维护"}},
	{"fl", "妇联", "妇女儿童维权系统", fengqiao.KindDispute, []string{"家庭矛盾", "婚姻家庭", "儿童权益", "妇女就业"}},
	{"zgh", "总工会", "职工维权服务平台", fengqiao.KindDispute, []string{"劳动报酬", "职工安全", "劳动争议", "困难帮扶"}},
	{"cl", "残联", "残疾人服务系统", fengqiao.KindRequest, []string{"残疾人补贴", "康复服务", "无障碍设施", "就业扶持"}},
	{"gd", "供电", "供电服务平台", fengqiao.KindRequest, []string{"停电报修", "电费争议", "线路隐患", "新装增容"}},
	{"rq", "燃气", "燃气服务系统", fengqiao.KindRequest, []string{"燃气泄漏", "安检预约", "管道改造", "燃气费争议"}},
	{"sw", "水务", "供水服务系统", fengqiao.KindRequest, []string{"停水报修", "水质问题", "水费争议", "管网漏水"}},
	{"gh", "港航", "港航管理系统", fengqiao.KindEnforcement, []string{"船舶安全", "港口作业", "航道障碍", "码头管理"}},
	{"hyyy", "海洋渔业", "渔船管理系统", fengqiao.KindEnforcement, []string{"渔船安全", "违规捕捞", "渔业纠纷", "休渔管理"}},
	{"ly", "林业", "林业巡护系统", fengqiao.KindEnforcement, []string{"森林防火", "乱砍滥伐", "野生动物", "林地占用"}},
	{"yb", "医疗保障", "医保服务系统", fengqiao.KindConsult, []string{"医保报销", "参保缴费", "异地就医", "欺诈骗保"}},
	{"yshj", "营商环境", "涉企问题直通车", fengqiao.KindSuggestion, []string{"审批时限", "涉企收费", "政策兑现", "办事效率"}},
}

// NewFleet generates the fleet cfg describes.
func NewFleet(cfg FleetConfig) *Fleet {
	b := make([]byte, 16)
	rand.Read(b)
	f := &Fleet{Secret: hex.EncodeToString(b)}
	villages := fengqiao.Wenling().Units(fengqiao.LevelVillage)
	for i := range cfg.Apps {
		f.Apps = append(f.Apps, newApp(cfg, i, villages, f.Secret))
	}
	return f
}

func newApp(cfg FleetConfig, i int, villages []*fengqiao.OrgUnit, secret string) *App {
	rnd := mrand.New(mrand.NewPCG(uint64(cfg.Seed), uint64(i)))
	pick := func(n int) int { return rnd.IntN(n) }
	d, level := appDomains[i%len(appDomains)], appLevels[i/len(appDomains)%len(appLevels)]
	a := &App{Name: level[0] + "_" + d.code, Title: level[1] + d.dept + d.system, kind: d.kind, secret: secret,
		RateLimit: rateLimits[pick(len(rateLimits))], served: map[string]bool{}}
	if round := i / (len(appDomains) * len(appLevels)); round > 0 { // beyond 90 apps: a second system of each
		a.Name, a.Title = fmt.Sprintf("%s%d", a.Name, round+1), fmt.Sprintf("%s（%d期）", a.Title, round+1)
	}
	a.limiter = rate.NewLimiter(rate.Limit(a.RateLimit), 3) // room for a request that left on time but came late
	s := &a.style
	s.paging = []string{"page", "offset", "token"}[i%3] // every style in every few apps
	params := pageParams[s.paging]
	s.pageParams = params[pick(len(params))]
	s.pageSize = []int{50, 100, 200}[pick(3)]
	s.path, s.since = listPaths[pick(len(listPaths))], sinceNames[pick(len(sinceNames))]
	s.timeFormat = timeFormats[pick(len(timeFormats))]
	env := envelopes[pick(len(envelopes))]
	s.records, s.next = env[0], env[1]
	s.auth = []string{"apiKey", "bearer", "hmac"}[i/3%3]
	s.keyHeader = keyHeaders[pick(len(keyHeaders))]
	s.keys, s.codes = keyStyles[pick(len(keyStyles))], codeStyles[pick(len(codeStyles))]

	n := cfg.Records/2 + pick(cfg.Records+1)
	start := cfg.End.AddDate(-1, 0, 0)
	prefix := strings.ToUpper(d.code) + strconv.Itoa(i)
	type row struct {
		r       map[string]any
		updated time.Time
		id      string
	}
	rows := make([]row, 0, n)
	for seq := range n {
		v := villages[pick(len(villages))]
		town := v.Parent()
		category := d.categories[pick(len(d.categories))]
		reported := start.Add(time.Duration(rnd.Int64N(int64(cfg.End.Sub(start)) - int64(96*time.Hour))))
		updated := reported.Add(time.Duration(rnd.Int64N(int64(72 * time.Hour)))).Truncate(time.Second)
		reported = reported.Truncate(time.Second)
		status := s.codes[pick(len(s.codes))]
		id := fmt.Sprintf("%s%s%05d", prefix, reported.In(world.CST).Format("0601"), seq)
		if rnd.Float64() < cfg.MalformedRate {
			status = "99" // in no code table
			a.malformed = append(a.malformed, id)
		}
		k := s.keys
		rows = append(rows, row{id: id, updated: updated, r: map[string]any{
			k.id: id, k.title: v.Name + category + "问题", k.category: category, k.area: v.Code,
			k.content:  fmt.Sprintf("群众反映%s%s%s存在%s问题，请求%s部门处理。", town.Name, v.Name, places[pick(len(places))], category, d.dept),
			k.address:  fmt.Sprintf("温岭市%s%s%s%d号", town.Name, v.Name, roads[pick(len(roads))], 1+pick(300)),
			k.reported: formatAppTime(reported, s.timeFormat), k.updated: formatAppTime(updated, s.timeFormat), k.status: status,
		}})
	}
	sort.Slice(rows, func(x, y int) bool {
		if !rows[x].updated.Equal(rows[y].updated) {
			return rows[x].updated.Before(rows[y].updated)
		}
		return rows[x].id < rows[y].id
	})
	for _, r := range rows {
		a.rows, a.updated = append(a.rows, r.r), append(a.updated, r.updated)
	}
	return a
}

// places and roads make the records' addresses.
var (
	places = []string{"菜市场", "小区", "工地", "沿街店铺", "农贸市场", "学校门口", "公园", "厂区", "村委会", "码头"}
	roads  = []string{"中心路", "东海大道", "新河路", "万昌路", "人民路", "横湖路", "锦屏路", "九龙大道"}
)

// formatAppTime writes t as an app with that time format does: numbers for Unix
// times, text for the rest (in China Standard Time).
func formatAppTime(t time.Time, format string) any {
	switch format {
	case "unix":
		return t.Unix()
	case "unixms":
		return t.UnixMilli()
	case "rfc3339":
		return t.In(world.CST).Format(time.RFC3339)
	}
	return t.In(world.CST).Format(format)
}

// parseAppTime reads the since parameter in an app's time format.
func parseAppTime(v, format string) (time.Time, error) {
	switch format {
	case "unix", "unixms":
		n, err := strconv.ParseInt(v, 10, 64)
		if format == "unix" {
			return time.Unix(n, 0), err
		}
		return time.UnixMilli(n), err
	case "rfc3339":
		return time.Parse(time.RFC3339, v)
	}
	return time.ParseInLocation(format, v, world.CST)
}

// Start serves the fleet on addr, counting its connections and requests.
func (f *Fleet) Start(addr string) (*Running, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_fleet/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(f.Stats())
	})
	for _, a := range f.Apps {
		mux.Handle("/"+a.Name+"/", http.StripPrefix("/"+a.Name, a.Handler()))
	}
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peak(&f.peakInFlight, f.inFlight.Add(1))
		defer f.inFlight.Add(-1)
		mux.ServeHTTP(w, r)
	})
	return serve(addr, &http.Server{Handler: counted, ConnState: func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			peak(&f.peakOpen, f.open.Add(1))
		case http.StateClosed, http.StateHijacked:
			f.open.Add(-1)
		}
	}})
}

// peak raises p to n if n is higher.
func peak(p *atomic.Int64, n int64) {
	for old := p.Load(); n > old && !p.CompareAndSwap(old, n); old = p.Load() {
	}
}

// PeakConns is the most connections the fleet had open at once.
func (f *Fleet) PeakConns() int { return int(f.peakOpen.Load()) }

// PeakRequests is the most requests the fleet was answering at once.
func (f *Fleet) PeakRequests() int { return int(f.peakInFlight.Load()) }

// FleetStats is what the whole fleet served, and how hard it was pressed.
type FleetStats struct {
	Apps         int `json:"apps"`
	Records      int `json:"records"`   // held by all the apps
	Malformed    int `json:"malformed"` // of them, served broken
	Served       int `json:"served"`    // served at least once
	OverRate     int `json:"overRate"`  // requests answered 429 for coming past an app's rate
	PeakConns    int `json:"peakConns"`
	PeakRequests int `json:"peakRequests"`
}

// Stats returns the fleet's figures so far; GET /_fleet/stats serves them.
func (f *Fleet) Stats() FleetStats {
	st := FleetStats{Apps: len(f.Apps), PeakConns: f.PeakConns(), PeakRequests: f.PeakRequests()}
	for _, a := range f.Apps {
		st.Records += a.Len()
		st.Malformed += len(a.malformed)
		st.Served += a.Served()
		st.OverRate += a.OverRate()
	}
	return st
}

// Records is how many records all the apps hold.
func (f *Fleet) Records() int {
	n := 0
	for _, a := range f.Apps {
		n += len(a.rows)
	}
	return n
}

// Len is how many records the app holds.
func (a *App) Len() int { return len(a.rows) }

// Rows returns the app's records as it serves them, in update order.
func (a *App) Rows() []map[string]any { return a.rows }

// Malformed returns the ids of the records served with an unknown status code.
func (a *App) Malformed() []string { return a.malformed }

// Served is how many of its records the app has served at least once.
func (a *App) Served() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.served)
}

// OverRate is how many requests came faster than the app's rate limit (answered 429).
func (a *App) OverRate() int { return int(a.overRate.Load()) }

// Handler returns the app's HTTP API: its list, and POST /oauth/token when it
// takes bearer tokens.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+a.style.path, a.list)
	if a.style.auth == "bearer" {
		mux.HandleFunc("POST /oauth/token", a.token)
	}
	return a.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.limiter.Allow() {
			a.overRate.Add(1)
			w.Header().Set("Retry-After", "1")
			a.writeJSON(w, http.StatusTooManyRequests, map[string]any{"code": 429, "message": "接口调用频率超限"})
			return
		}
		if r.URL.Path != "/oauth/token" && !a.authorized(r) {
			a.writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 401, "message": "鉴权失败"})
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

func (a *App) authorized(r *http.Request) bool {
	switch a.style.auth {
	case "apiKey":
		return r.Header.Get(a.style.keyHeader) == a.secret
	case "bearer":
		_, ok := a.tokens.Load(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		return ok
	}
	mac := hmac.New(sha256.New, []byte(a.secret))
	mac.Write([]byte(r.Method + "\n" + r.URL.RequestURI() + "\n" + r.Header.Get("X-Ts")))
	return r.Header.Get("X-App-Key") == a.Name && hmac.Equal([]byte(r.Header.Get("X-Sig")), []byte(hex.EncodeToString(mac.Sum(nil))))
}

func (a *App) token(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() != nil || r.PostForm.Get("client_id") != a.Name || r.PostForm.Get("client_secret") != a.secret {
		a.writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	a.tokens.Store(tok, true)
	a.writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": 7200})
}

func (a *App) list(w http.ResponseWriter, r *http.Request) {
	s, q := a.style, r.URL.Query()
	bad := func() { a.writeJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": "参数错误"}) }
	var from, size int
	var next string
	switch s.paging {
	case "token":
		size = s.pageSize
		if t := q.Get(s.pageParams[0]); t != "" {
			b, err := base64.RawURLEncoding.DecodeString(t)
			if from, err = strconv.Atoi(string(b)); err != nil || from < 0 || from > len(a.rows) {
				bad()
				return
			}
		}
	default:
		n, err1 := strconv.Atoi(q.Get(s.pageParams[0]))
		m, err2 := strconv.Atoi(q.Get(s.pageParams[1]))
		if err1 != nil || err2 != nil || m < 1 || m > 500 || n < 0 || (s.paging == "page" && n < 1) {
			bad()
			return
		}
		if s.paging == "page" {
			n = (n - 1) * m
		}
		size = m
		if v := q.Get(s.since); v != "" {
			since, err := parseAppTime(v, s.timeFormat)
			if err != nil {
				bad()
				return
			}
			from = sort.Search(len(a.updated), func(i int) bool { return !a.updated[i].Before(since) })
		}
		from = min(from+n, len(a.rows))
	}
	end := min(from+size, len(a.rows))
	page := damage(&a.faultSwitch, a.rows[from:end], nil)
	a.mu.Lock()
	for _, row := range page {
		a.served[row[s.keys.id].(string)] = true
	}
	a.mu.Unlock()
	if s.paging == "token" {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	a.writeJSON(w, http.StatusOK, envelop(s.records, s.next, page, next))
}

// envelop puts a page (and its next-page token, if any) where the app's answers
// keep them: "data.list" beside "data.nextToken" is {"code":0,"data":{"list":…}}.
func envelop(records, next string, page []map[string]any, token string) map[string]any {
	out := map[string]any{"code": 0, "message": "成功"}
	set := func(path string, v any) {
		m := out
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			if _, ok := m[k].(map[string]any); !ok {
				m[k] = map[string]any{}
			}
			m = m[k].(map[string]any)
		}
		m[keys[len(keys)-1]] = v
	}
	if page == nil {
		page = []map[string]any{}
	}
	set(records, page)
	if token != "" {
		set(next, token)
	}
	return out
}

// Style names the app's paging and authentication, "page+bearer".
func (a *App) Style() string { return a.style.paging + "+" + a.style.auth }
