package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"fengqiao"
	"fengqiao/resolvers"
	"fengqiao/search"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// benchQuery is the query the foundation issue names; the alert storm's
// unrelated query.
const benchQuery = `{ events(first: 5) { totalCount edges { node { id source title orgUnit { name level } } } } }`

// benchTown is the town of the event pages (泽国镇, as in ../shared/peers/mesh).
const benchTown = "331081100"

type benchFlags struct {
	scale       float64
	concurrency int
	requests    int
	storm       int
	stormBatch  int
	jsonPath    string
	heapProfile string // written after the first sync
	syncOnly    bool   // stop after the first sync and its memory
}

// bench measures issue 9's table on this machine in one run: the world's
// generation, the first sync against raw Bleve indexing of the same documents,
// memory while serving, search, the uncached cockpit, event pages, the alert
// storm and live reads with an upstream down. It prints the table and, with
// -json, writes it.
func (m *Main) bench(ctx context.Context, args []string) error {
	fs := m.command("bench", "bench [-scale S] [-concurrency N] [-requests N] [-storm N] [-json 文件] [-sync-only] [-heapprofile 文件]\n"+
		"       fengqiao bench -apps N [-app-records N] [-sync-concurrency N] [-upstream-conns N] [-json 文件]",
		"在本机测量同步、检索、驾驶舱、分页、告警风暴和实时读取，打印目标达成表（docs/operations.md「Measured figures」）；"+
			"给出 -apps 时改为测量枢纽追上 N 个模拟长尾应用的用时、CPU 和内存（docs/operations.md「A fleet of apps」）。")
	var f benchFlags
	var ff fleetFlags
	fs.IntVar(&ff.apps, "apps", 0, "只测长尾应用：模拟的应用个数（应用在另一进程中运行）")
	fs.IntVar(&ff.records, "app-records", 3000, "每个长尾应用的平均记录数")
	fs.IntVar(&ff.concurrency, "sync-concurrency", 0, "枢纽的同步并发（syncConcurrency，0 为默认）")
	fs.IntVar(&ff.conns, "upstream-conns", 0, "枢纽对每个上游主机的连接上限（upstreamConns，0 为默认）")
	fs.Float64Var(&f.scale, "scale", 0.1, "模拟数据规模（真实年量的比例，1 约 34 万条）")
	fs.IntVar(&f.concurrency, "concurrency", 16, "并发 GraphQL 客户端数（事件分页固定 20 个连接）")
	fs.IntVar(&f.requests, "requests", 1000, "每项查询测量的请求数")
	fs.IntVar(&f.storm, "storm", 5000, "告警风暴的告警数")
	fs.IntVar(&f.stormBatch, "storm-batch", 1, "告警风暴每个请求推送的告警数（大于 1 时用批量形式）")
	fs.StringVar(&f.jsonPath, "json", "", "把结果表写成 JSON 文件")
	fs.StringVar(&f.heapProfile, "heapprofile", "", "首次同步后把堆剖析写入此文件（go tool pprof 读取）")
	fs.BoolVar(&f.syncOnly, "sync-only", false, "只测生成、首次同步和内存，然后结束")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.requests < 1 || f.concurrency < 1 || f.storm < 1 {
		return errors.New("-requests、-concurrency、-storm 须为正数")
	}
	report := &benchReport{Scale: f.scale, Apps: ff.apps, Machine: machine(), Started: time.Now()}
	run := func() error { return m.runBench(ctx, f, report) }
	if ff.apps > 0 {
		run = func() error { return m.benchFleet(ctx, ff, report) }
	}
	if err := run(); err != nil {
		return err
	}
	report.Elapsed = time.Since(report.Started).Round(time.Second).String()
	slices.SortStableFunc(report.Rows, func(a, b benchRow) int {
		return slices.Index(benchKeys, a.Key) - slices.Index(benchKeys, b.Key)
	})
	report.print(m.Stdout)
	if f.jsonPath != "" {
		if err := report.write(f.jsonPath); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "结果已写入 %s\n", f.jsonPath)
	}
	return nil
}

// step tells the person waiting what is being measured.
func (m *Main) step(format string, args ...any) {
	fmt.Fprintf(m.Stderr, "bench: "+format+"\n", args...)
}

func (m *Main) runBench(ctx context.Context, f benchFlags, report *benchReport) error {
	dir, err := os.MkdirTemp("", "fengqiao-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The world, its time and the memory it holds.
	heapBefore := liveHeap()
	t0 := time.Now()
	w, err := m.generateWorld(ctx, world.Config{Seed: 1, Scale: f.scale, End: time.Now().In(world.CST)})
	if err != nil {
		return err
	}
	genTime := time.Since(t0)
	worldHeap := max(0, int64(liveHeap())-int64(heapBefore))
	records := len(w.Hotline) + len(w.Mediation) + len(w.Police) + len(w.Court) + len(w.City) + len(w.Surveys) + len(w.Projects)
	unit := max(f.scale, 1)
	report.add(benchRow{Key: "world.time", Measure: "生成模拟世界：用时", Value: num(genTime.Seconds()), Unit: "s",
		Figure: fmt.Sprintf("%.1f 秒（%d 条记录）", genTime.Seconds(), records),
		Target: "任意 -scale ≤ 5 数秒级（≤ 10 秒×规模）", Met: met(genTime.Seconds() <= 10*unit)})
	report.add(benchRow{Key: "world.memory", Measure: "生成模拟世界：内存（存活堆）", Value: num(float64(worldHeap) / (1 << 30)), Unit: "GiB",
		Figure: fmt.Sprintf("%.2f GiB", float64(worldHeap)/(1<<30)),
		Target: "有界，随规模线性（≤ 0.4 GiB×规模）", Met: met(float64(worldHeap) <= 0.4*(1<<30)*max(f.scale, 0.05))})

	// The hub's soft memory limit, with room for the world beside it.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // as it was, after the bench
	memLimit := limitMemory(worldHeap)
	m.step("Go 软内存上限 %.2f GiB（含世界 %.2f GiB）", float64(memLimit)/(1<<30), float64(worldHeap)/(1<<30))

	county, err := sim.StartCounty(w)
	if err != nil {
		return err
	}
	defer county.Close()
	hub, err := OpenHub(countyConfig(county, "127.0.0.1:0", filepath.Join(dir, "hub")), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer hub.Close()

	// The first sync, each connector alone so that each figure is its own, with
	// the process's RSS sampled throughout for its peak.
	peak := samplePeak(250*time.Millisecond, rss)
	sync := m.progress("首次同步+索引+串联")
	done, start := 0, time.Now()
	for _, c := range hub.Runner.Connectors() {
		if c.Source() == fengqiao.SourceAlert {
			continue // pushed, measured by the storm below
		}
		t0 := time.Now()
		before := done
		for {
			caughtUp, err := hub.Runner.SyncBatch(ctx, c)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name(), err)
			}
			sync.Report(min(before+recordsIn(hub, c.Name()), records-1), records)
			if caughtUp {
				break
			}
		}
		n := recordsIn(hub, c.Name())
		done = before + n
		d := time.Since(t0)
		m.step("同步 %-10s %7d 条，%6.1f 秒，%6.0f 条/秒", c.Name(), n, d.Seconds(), float64(n)/d.Seconds())
	}
	syncTime := time.Since(start)
	syncPeak := peak()
	sync.Report(records, records)
	events, err := hub.Index.Count(ctx, fengqiao.EventFilter{})
	if err != nil {
		return err
	}
	report.Events = events
	rate := float64(done) / syncTime.Seconds()
	report.add(benchRow{Key: "sync.time", Measure: "首次同步+索引+串联：用时", Value: num(syncTime.Seconds()), Unit: "s",
		Figure: fmt.Sprintf("%.1f 秒（%d 条记录，%d 条事件；100 万条约 %.1f 分钟）", syncTime.Seconds(), done, events, 1e6/rate/60),
		Target: "100 万条 ≤ 10 分钟", Met: met(1e6/rate <= 600)})
	report.add(benchRow{Key: "sync.rate", Measure: "首次同步+索引+串联：速率", Value: num(rate), Unit: "records/s",
		Figure: fmt.Sprintf("%.0f 条/秒", rate), Target: "≥ 1,667 条/秒（即 100 万条 10 分钟）", Met: met(rate >= 1e6/600)})
	if err := m.benchMemory(f, report, filepath.Join(dir, "hub"), events, syncPeak, worldHeap); err != nil || f.syncOnly {
		return err
	}

	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- hub.Serve(serveCtx) }()
	defer func() { stop(); <-served }()
	base := "http://" + hub.Addr()
	token, err := hub.Tokens.Issue(fengqiao.Principal{ID: "bench", Name: "压测", Role: fengqiao.RoleAnalyst, OrgCode: hub.Tree.Root().Code}, 24*time.Hour)
	if err != nil {
		return err
	}
	gql := newGQLClient(base+"/graphql", token, max(f.concurrency, 20))
	defer gql.close()
	towns := hub.Tree.Units(fengqiao.LevelTown)
	words := titleWords(w, 200)

	// Search over HTTP, words drawn from the world's own titles.
	m.step("测量：中文全文检索+分面（%d 个请求）", f.requests)
	text, err := runLoad(ctx, f.concurrency, f.requests, gql.do(func(i int) (string, map[string]any) {
		return textQuery, map[string]any{"text": words[i%len(words)]}
	}))
	if err != nil {
		return err
	}
	runtime.GC()
	serving := rss()
	m.step("内存构成（服务中）：%s", memoryBreakdown())
	limit := 1.0 // GiB, at 1 M events; 1.5 at 3 M
	if events > 2_000_000 {
		limit = 1.5
	}
	rssRow := benchRow{Key: "rss.serving", Measure: "同步后服务中的常驻内存（RSS）", Value: num(float64(serving) / (1 << 30)), Unit: "GiB",
		Figure: fmt.Sprintf("%.2f GiB（%d 条事件）", float64(serving)/(1<<30), events),
		Target: "100 万条事件 < 1 GiB（300 万 < 1.5 GiB）", Met: met(float64(serving) < limit*(1<<30)),
		Note: "含进程内模拟上游所持的世界（见生成模拟世界：内存）；少于 100 万条时按本次事件数判定"}
	report.add(rssRow)
	report.add(latencyRow("search.text", "中文全文检索+分面 p95", text, 0.95, 50, "100 万条时 p95 < 50 ms"))

	m.step("测量：按时间倒序分页（%d 个请求）", f.requests)
	newest, err := runLoad(ctx, f.concurrency, f.requests, gql.do(func(i int) (string, map[string]any) {
		vars := map[string]any{}
		if i%2 == 1 {
			vars["org"] = towns[i/2%len(towns)].Code
		}
		return newestQuery, vars
	}))
	if err != nil {
		return err
	}
	report.add(latencyRow("search.newest", "按时间倒序分页（每页 20）p95", newest, 0.95, 20, "100 万条时 p95 < 20 ms"))

	m.step("测量：计数+分面（%d 个请求）", f.requests)
	end := time.Now().In(fengqiao.CST)
	counts, err := runLoad(ctx, f.concurrency, f.requests, gql.do(func(i int) (string, map[string]any) {
		vars := map[string]any{}
		if i%3 != 0 {
			vars["org"] = towns[i%len(towns)].Code
		}
		if i%2 == 1 {
			vars["from"] = end.AddDate(0, -1-i%11, 0).Format(time.RFC3339)
			vars["to"] = end.Format(time.RFC3339)
		}
		return countsQuery, vars
	}))
	if err != nil {
		return err
	}
	report.add(latencyRow("search.counts", "计数+分面 p95", counts, 0.95, 100, "100 万条时 < 100 ms"))

	if err := m.benchCockpit(ctx, hub, gql, f, report, towns, end); err != nil {
		return err
	}

	// Pages of 50 events of one town at 20 connections, the shape Hive Gateway is
	// measured with in ../shared/peers/mesh.
	m.step("测量：一个镇的 50 条事件，20 个连接（%d 个请求）", 2*f.requests)
	pages, err := runLoad(ctx, 20, 2*f.requests, gql.do(func(int) (string, map[string]any) { return pagesQuery, nil }))
	if err != nil {
		return err
	}
	row := rateRow("pages.town50", "事件分页：一个镇 50 条，20 个连接", pages, "≥ 5× Hive Gateway 默认、≥ 1× 其响应缓存（同窗口另测）")
	row.Note = "与压测客户端同进程、未绑核；Hive Gateway 由 ../shared/peers/mesh/run.sh 在同一时段另测"
	report.add(row)

	if err := m.benchStorm(ctx, hub, county, gql, base, f, report); err != nil {
		return err
	}
	if err := m.benchLive(ctx, county, gql, f, report, towns); err != nil {
		return err
	}
	return m.benchRawBleve(ctx, hub, dir, events, syncTime, report)
}

// titleWords draws n words of two to four Chinese characters from the world's
// work-order and mediation titles.
func titleWords(w *world.World, n int) []string {
	rnd := rand.New(rand.NewPCG(9, 9))
	var titles []string
	for _, o := range w.Hotline {
		titles = append(titles, o.SQBT)
	}
	for _, c := range w.Mediation {
		titles = append(titles, c.CaseTitle)
	}
	var words []string
	for tries := 0; len(words) < n && tries < 50*n && len(titles) > 0; tries++ {
		rs := []rune(titles[rnd.IntN(len(titles))])
		if len(rs) < 2 {
			continue
		}
		at, size := rnd.IntN(len(rs)-1), 2+rnd.IntN(3)
		word := rs[at:min(at+size, len(rs))]
		if len(word) >= 2 && !slices.ContainsFunc(word, func(r rune) bool { return !unicode.Is(unicode.Han, r) }) {
			words = append(words, string(word))
		}
	}
	if len(words) == 0 {
		words = []string{"纠纷", "工资", "噪音"}
	}
	return words
}

const facetFields = `facets { sources { value count } categories { value count } towns { value count } kinds { value count } statuses { value count } handlingLevels { value count } }`

var (
	textQuery   = `query($text: String!) { events(filter: {text: $text}, first: 20) { totalCount edges { node { id title reportedAt } highlights } ` + facetFields + ` } }`
	newestQuery = `query($org: ID) { events(filter: {orgCode: $org}, first: 20) { edges { node { id source title status reportedAt orgUnit { name } } } pageInfo { endCursor hasNextPage } } }`
	countsQuery = `query($org: ID, $from: Time, $to: Time) { events(filter: {orgCode: $org, from: $from, to: $to}, first: 0) { totalCount ` + facetFields + ` } }`
	pagesQuery  = `{ events(filter: {orgCode: "` + benchTown + `"}, first: 50) { edges { node { id title status } } } }`
	cockpitGQL  = `query($org: ID, $from: Time!, $to: Time!, $g: Granularity) { cockpit(orgCode: $org, from: $from, to: $to, granularity: $g) {
	total mediationAccepted mediationSettled settledByLevel { value count } onSiteRate mediationRate
	firstReports firstResolved firstResolvedRate surveys satisfactionRate overdue ` + facetFields + `
	alerts { type count disposed disposalRate } series { start count }
	ranking { orgUnit { code name } total settled settledRate satisfactionRate } } }`
)

// cockpitVars asks for org's figures of the period ending shift seconds before
// end: each shift is a period the cache has not seen.
func cockpitVars(org string, end time.Time, shift int, month bool) map[string]any {
	to := end.Add(-time.Duration(shift) * time.Second)
	from, g := to.AddDate(-1, 0, 0), "MONTH"
	if month {
		from, g = to.AddDate(0, -1, 0), "DAY"
	}
	vars := map[string]any{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339), "g": g}
	if org != "" {
		vars["org"] = org
	}
	return vars
}

// benchCockpit measures the cockpit's figures uncached (a new period each
// request) for the county's year and a town's month, cached, and a bare gqlgen
// server answering the same figures from memory.
func (m *Main) benchCockpit(ctx context.Context, hub *Hub, gql *gqlClient, f benchFlags, report *benchReport, towns []*fengqiao.OrgUnit, end time.Time) error {
	n := min(max(f.requests/100, 4), 16)
	m.step("测量：驾驶舱未缓存，县全年（%d 个请求，2 并发）", n)
	year, err := runLoad(ctx, 2, n, gql.do(func(i int) (string, map[string]any) { return cockpitGQL, cockpitVars("", end, i+1, false) }))
	if err != nil {
		return err
	}
	report.add(latencyRow("cockpit.year", "驾驶舱未缓存：县全年（按月）p95", year, 0.95, 200, "100 万条时 < 200 ms"))
	m.step("测量：驾驶舱未缓存，镇一个月（%d 个请求，2 并发）", n)
	month, err := runLoad(ctx, 2, n, gql.do(func(i int) (string, map[string]any) {
		return cockpitGQL, cockpitVars(towns[i%len(towns)].Code, end, i+1, true)
	}))
	if err != nil {
		return err
	}
	report.add(latencyRow("cockpit.townMonth", "驾驶舱未缓存：镇一个月（按日）p95", month, 0.95, 200, "100 万条时 < 200 ms"))

	m.step("测量：驾驶舱已缓存与裸 gqlgen（各 %d 个请求）", f.requests)
	fixed := cockpitVars("", end, 0, false)
	if _, err := gql.post(ctx, cockpitGQL, fixed, false); err != nil { // fills the cache
		m.step("驾驶舱预热出错：%v", err)
	}
	cached, err := runLoad(ctx, f.concurrency, f.requests, gql.do(func(int) (string, map[string]any) { return cockpitGQL, fixed }))
	if err != nil {
		return err
	}
	report.add(rateRow("cockpit.cached", "驾驶舱已缓存：县全年", cached, "—（参照）"))

	// The bare server: the same schema, figures from memory, no auth, limits or
	// metrics, but its parsed queries cached as gateway/server.go caches them.
	to, _ := time.Parse(time.RFC3339, fixed["to"].(string))
	from, _ := time.Parse(time.RFC3339, fixed["from"].(string))
	figures, err := hub.figures.Figures(ctx, hub.Tree.Root().Code, from, to, fengqiao.Month)
	if err != nil {
		return err
	}
	p, err := hub.Tokens.Verify(gql.token)
	if err != nil {
		return err
	}
	bare := handler.New(resolvers.NewSchema(&resolvers.Resolver{Tree: hub.Tree, Index: hub.Index, Figures: fixedFigures{figures}}))
	bare.AddTransport(transport.POST{})
	bare.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	bare.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bare.ServeHTTP(w, r.WithContext(fengqiao.WithPrincipal(r.Context(), p)))
	}))
	defer srv.Close()
	bareGQL := newGQLClient(srv.URL, gql.token, f.concurrency)
	defer bareGQL.close()
	bareRes, err := runLoad(ctx, f.concurrency, f.requests, bareGQL.do(func(int) (string, map[string]any) { return cockpitGQL, fixed }))
	if err != nil {
		return err
	}
	row := rateRow("baseline.bareGqlgen", "裸 gqlgen（缓存已解析查询）同一载荷", bareRes, "—（参照）")
	if bareRes.rate() > 0 {
		row.Figure += fmt.Sprintf("；已缓存的枢纽为其 %.2f 倍", cached.rate()/bareRes.rate())
	}
	report.add(row)
	return nil
}

// benchStorm pushes an alert storm from 16 senders while 4 clients query, after
// the same query alone, and then from one sender.
func (m *Main) benchStorm(ctx context.Context, hub *Hub, county *sim.County, gql *gqlClient, base string, f benchFlags, report *benchReport) error {
	query := gql.do(func(int) (string, map[string]any) { return benchQuery, nil })
	quietN := min(400, max(f.requests, 40))
	m.step("测量：无风暴时的查询（4 并发，%d 个请求）", quietN)
	quiet, err := runLoad(ctx, 4, quietN, query)
	if err != nil {
		return err
	}
	m.step("测量：告警风暴 %d 条，16 个发送方，每请求 %d 条，同时 4 个客户端查询", f.storm, max(f.stormBatch, 1))
	devices := county.Alerts.Devices()
	pusher := &sim.Pusher{URL: base + "/webhooks/alerts", Secret: county.Secret, Client: &http.Client{Timeout: requestTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}, Batch: f.stormBatch}
	var storm sim.StormResult
	var stormErr error
	stormDone := make(chan struct{})
	go func() {
		defer close(stormDone)
		storm, stormErr = pusher.Storm(ctx, county.Alerts, devices[:min(20, len(devices))], f.storm, 16)
	}()
	during := loadResult{concurrency: 4}
	t0 := time.Now()
	for running := true; running; {
		select {
		case <-stormDone:
			running = false
		default:
			r, err := runLoad(ctx, 4, 40, query)
			if err != nil {
				<-stormDone
				return err
			}
			during.lat = append(during.lat, r.lat...)
			during.errors += r.errors
			if during.firstErr == nil {
				during.firstErr = r.firstErr
			}
		}
	}
	during.elapsed = time.Since(t0)
	slices.Sort(during.lat)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	report.add(stormRow("storm.rate", "告警风暴：16 个发送方接收速率", storm, stormErr, "≥ 2× Alertmanager 同并发（同机另测）", 0))

	m.step("测量：单个发送方推送 %d 条", max(f.storm/5, 50))
	one, oneErr := pusher.Storm(ctx, county.Alerts, devices[min(20, len(devices)-1):], max(f.storm/5, 50), 1)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	report.add(stormRow("storm.oneSender", "告警：单个发送方接收速率", one, oneErr, "≥ 2,000 条/秒", 2000))

	report.add(latencyRow("storm.queryP99", "风暴中无关查询 p99", during, 0.99, 0, "—（见下行比值）"))
	q, okQ := quiet.pct(0.99)
	d, okD := during.pct(0.99)
	ratio := benchRow{Key: "storm.queryRatio", Measure: "风暴中无关查询 p99 ÷ 无风暴时", Unit: "×", Target: "≤ 1.5×",
		Requests: quiet.requests() + during.requests(), Errors: quiet.errors + during.errors}
	if okQ && okD && q > 0 {
		ratio.Value = num(float64(d) / float64(q))
		ratio.Figure = fmt.Sprintf("%.2f×（%s ÷ %s）", *ratio.Value, ms(d), ms(q))
		ratio.Met = met(*ratio.Value <= 1.5 && ratio.Errors == 0)
	} else {
		ratio.Figure, ratio.Met = "无成功请求", met(false)
	}
	if ratio.Errors > 0 {
		ratio.Figure += fmt.Sprintf("，%d 个请求出错", ratio.Errors)
	}
	report.add(ratio)

	m.step("等待风暴的告警折叠为事件")
	folded := time.Now()
	for !hub.Runner.Ready() || pendingAlerts(hub) > 0 {
		if time.Since(folded) > 5*time.Minute {
			m.step("告警 5 分钟内未全部折叠，继续")
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	incidents, _ := hub.Index.Count(ctx, fengqiao.EventFilter{Sources: []fengqiao.Source{fengqiao.SourceAlert}})
	m.step("风暴折叠为 %d 个事件，自风暴开始 %.1f 秒", incidents, time.Since(t0).Seconds())
	return nil
}

// stormRow is a row of a storm's accepted alerts a second; alerts sent but not
// accepted are its errors.
func stormRow(key, measure string, s sim.StormResult, err error, target string, want float64) benchRow {
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Accepted) / s.Elapsed.Seconds()
	}
	row := benchRow{Key: key, Measure: measure, Value: num(rate), Unit: "alerts/s", Target: target,
		Requests: s.Sent, Errors: s.Sent - s.Accepted,
		Figure: fmt.Sprintf("%.0f 条/秒（%d 条中接收 %d 条，%.1f 秒）", rate, s.Sent, s.Accepted, s.Elapsed.Seconds())}
	if err != nil {
		row.Note = err.Error()
		row.Figure += "，推送出错"
	}
	if want > 0 {
		row.Met = met(rate >= want && row.Errors == 0 && err == nil)
	}
	return row
}

// benchLive measures live reads of 5 work orders with every upstream up, the
// first read of others once the hotline has gone down, and reads while it stays
// down.
func (m *Main) benchLive(ctx context.Context, county *sim.County, gql *gqlClient, f benchFlags, report *benchReport, towns []*fengqiao.OrgUnit) error {
	liveQuery := `query($org: ID) { events(filter: {sources: [HOTLINE_12345], orgCode: $org}, first: 5) { edges { node { id live { stale upstream readAt event { status } } } } } }`
	n := max(f.requests/2, 1)
	m.step("测量：实时读取 5 张工单，上游正常（%d 个请求）", n)
	up, err := runLoad(ctx, f.concurrency, n, gql.do(func(int) (string, map[string]any) { return liveQuery, nil }))
	if err != nil {
		return err
	}
	report.add(rateRow("live.up", "实时读取 5 张工单：上游正常", up, "—（参照）"))

	hotline := county.Switch("hotline")
	hotline.Set(sim.Faults{Down: true})
	defer hotline.Set(sim.Faults{})
	// Work orders of a town not read above: their reads go to the upstream.
	m.step("测量：12345 热线刚停机后的首次实时读取")
	const budget = 2 * time.Second // the hub's live-read timeout (hub.go)
	t0 := time.Now()
	ans, err := gql.post(ctx, liveQuery, map[string]any{"org": towns[len(towns)-1].Code}, true)
	first := time.Since(t0)
	row := benchRow{Key: "live.firstDown", Measure: "上游刚停机后的首次实时读取", Value: num(float64(first) / float64(time.Millisecond)), Unit: "ms",
		Figure: ms(first), Target: fmt.Sprintf("实时读取时限（%v）内，过时答复并指明上游，不等完整重试", budget), Requests: 1}
	switch stale, named := liveAnswer(ans); {
	case err != nil:
		row.Errors, row.Met, row.Note = 1, met(false), err.Error()
		row.Figure += "，出错"
	case !stale || !named:
		row.Met = met(false)
		row.Figure += fmt.Sprintf("，过时 %v、指明上游 %v", stale, named)
	default:
		row.Met = met(first < budget)
		row.Figure += "，过时答复并指明上游"
	}
	report.add(row)

	m.step("测量：实时读取 5 张工单，12345 热线停机（%d 个请求）", n)
	// The same town's work orders: reads of the others are fresh for 10 s.
	downTown := map[string]any{"org": towns[len(towns)-1].Code}
	down, err := runLoad(ctx, f.concurrency, n, func(ctx context.Context, _ int) error {
		ans, err := gql.post(ctx, liveQuery, downTown, true)
		if err != nil {
			return err
		}
		if stale, named := liveAnswer(ans); !stale || !named {
			return errors.New("停机时的答复不是指明上游的过时答复")
		}
		return nil
	})
	if err != nil {
		return err
	}
	report.add(rateRow("live.down", "实时读取 5 张工单：12345 热线停机（熔断后过时答复）", down, "—（参照）"))
	return nil
}

// liveAnswer reports whether every live read of a live query's answer is stale,
// and whether each names its upstream (in the read and in an error entry).
func liveAnswer(ans *gqlAnswer) (stale, named bool) {
	if ans == nil {
		return false, false
	}
	var data struct {
		Events struct {
			Edges []struct {
				Node struct {
					Live struct {
						Stale    bool   `json:"stale"`
						Upstream string `json:"upstream"`
					} `json:"live"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"events"`
	}
	if err := json.Unmarshal(ans.Data, &data); err != nil || len(data.Events.Edges) == 0 {
		return false, false
	}
	stale, named = true, len(ans.Errors) > 0
	for _, e := range data.Events.Edges {
		stale = stale && e.Node.Live.Stale
		named = named && e.Node.Live.Upstream != ""
	}
	return stale, named
}

// benchRawBleve indexes the documents the first sync indexed (every pulled
// upstream's events, read back from the hub's index) straight into a fresh
// Bleve index with the project's mapping, a thousand a batch, and compares.
// Only the indexing is timed, not the reading back.
func (m *Main) benchRawBleve(ctx context.Context, hub *Hub, dir string, events int, syncTime time.Duration, report *benchReport) error {
	raw, err := search.OpenBleve(filepath.Join(dir, "raw.bleve"))
	if err != nil {
		return err
	}
	defer raw.Close()
	var sources []fengqiao.Source
	for _, s := range fengqiao.Sources {
		if s != fengqiao.SourceAlert {
			sources = append(sources, s)
		}
	}
	filter := fengqiao.EventFilter{Sources: sources}
	total, err := hub.Index.Count(ctx, filter)
	if err != nil {
		return err
	}
	p := m.progress("直接用 Bleve 索引同样的文档")
	var batch []*fengqiao.Event
	var indexing time.Duration
	indexed := 0
	flush := func() error {
		t0 := time.Now()
		err := raw.Upsert(ctx, batch)
		indexing += time.Since(t0)
		indexed += len(batch)
		batch = batch[:0]
		p.Report(min(indexed, total-1), total)
		return err
	}
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := hub.Index.Search(ctx, fengqiao.EventQuery{Filter: filter, First: fengqiao.MaxPageSize, After: after})
		if err != nil {
			return err
		}
		batch = append(batch, page.Events...)
		if len(batch) >= 1000 {
			if err := flush(); err != nil {
				return err
			}
		}
		if !page.HasNext || len(page.Cursors) == 0 {
			break
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	p.Report(total, total)
	rawRate := float64(indexed) / max(indexing.Seconds(), 1e-9)
	syncRate := float64(events) / syncTime.Seconds()
	report.add(benchRow{Key: "bleve.rate", Measure: "直接用 Bleve 索引同样的文档", Value: num(rawRate), Unit: "docs/s",
		Figure: fmt.Sprintf("%.0f 条/秒（%d 条，%.1f 秒，每批 1000）", rawRate, indexed, indexing.Seconds()), Target: "—（参照）"})
	report.add(benchRow{Key: "sync.vsBleve", Measure: "首次同步速率 ÷ 直接 Bleve 索引速率", Value: num(syncRate / rawRate), Unit: "×",
		Figure: fmt.Sprintf("%.2f×（%.0f ÷ %.0f 条事件/秒）", syncRate/rawRate, syncRate, rawRate), Target: "≥ 0.9×", Met: met(syncRate/rawRate >= 0.9)})
	return nil
}

// benchMemory adds the memory rows after the first sync: the RSS peak during
// it, the live heap beside the world's and, with -heapprofile, writes the heap
// profile.
func (m *Main) benchMemory(f benchFlags, report *benchReport, data string, events int, syncPeak uint64, worldHeap int64) error {
	heap := liveHeap()
	settled := rss()
	hub := max(0, int64(heap)-worldHeap)
	report.add(benchRow{Key: "rss.syncPeak", Measure: "首次同步期间常驻内存峰值（RSS）", Value: num(float64(syncPeak) / (1 << 30)), Unit: "GiB",
		Figure: fmt.Sprintf("%.2f GiB（同步结束、回收后 %.2f GiB）", float64(syncPeak)/(1<<30), float64(settled)/(1<<30)),
		Target: "—（参照；含模拟世界）"})
	report.add(benchRow{Key: "heap.live", Measure: "同步后存活堆（不含模拟世界）", Value: num(float64(hub) / (1 << 30)), Unit: "GiB",
		Figure: fmt.Sprintf("%.2f GiB，每条事件 %d 字节（含世界共 %.2f GiB）", float64(hub)/(1<<30), hub/int64(max(events, 1)), float64(heap)/(1<<30)),
		Target: "—（参照）"})
	m.step("内存构成：%s", memoryBreakdown())
	m.step("数据目录：%s", dirSizes(data))
	if f.heapProfile == "" {
		return nil
	}
	out, err := os.Create(f.heapProfile)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(out, 0); err != nil {
		out.Close()
		return err
	}
	m.step("堆剖析已写入 %s", f.heapProfile)
	return out.Close()
}

// memoryBreakdown says where the RSS lies: anonymous memory (the Go heap in
// use, the Go runtime's free spans not yet returned, and the rest: C
// allocations such as Pebble's cache and memtables) and mapped files (Bleve's
// segments, Pebble's tables).
func memoryBreakdown() string {
	status := procStatus()
	sample := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/gc/heap/goal:bytes"},
	}
	metrics.Read(sample)
	v := func(i int) float64 { return float64(sample[i].Value.Uint64()) / (1 << 20) }
	goMapped := v(0) - v(1)
	anon := float64(status["RssAnon"]) / (1 << 20)
	return fmt.Sprintf("RSS %.0f MiB = 匿名 %.0f MiB（Go 运行时 %.0f MiB：对象 %.0f、空闲未归还 %.0f；Go 之外 %.0f）+ 文件映射 %.0f MiB；GC 目标 %.0f MiB",
		float64(status["VmRSS"])/(1<<20), anon, goMapped, v(2), v(3), anon-goMapped, float64(status["RssFile"])/(1<<20), v(4))
}

// dirSizes lists the size on disk of each entry of a data directory.
func dirSizes(dir string) string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		var size int64
		filepath.WalkDir(filepath.Join(dir, e.Name()), func(_ string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if info, err := d.Info(); err == nil {
					size += info.Size()
				}
			}
			return nil
		})
		out = append(out, fmt.Sprintf("%s %.0f MiB", e.Name(), float64(size)/(1<<20)))
	}
	return strings.Join(out, "，")
}

// samplePeak samples read (the process's RSS, its heap) every period until the
// returned function is called, which returns the highest sample.
func samplePeak(period time.Duration, read func() uint64) func() uint64 {
	var highest atomic.Uint64
	highest.Store(read())
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if r := read(); r > highest.Load() {
					highest.Store(r)
				}
			}
		}
	}()
	return func() uint64 {
		close(done)
		return max(highest.Load(), read())
	}
}

// liveHeap is the Go heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// fixedFigures answers every cockpit with the same figures, from memory.
type fixedFigures struct{ f *fengqiao.CockpitFigures }

func (x fixedFigures) Figures(context.Context, string, time.Time, time.Time, fengqiao.Granularity) (*fengqiao.CockpitFigures, error) {
	return x.f, nil
}

func (x fixedFigures) Trends(context.Context, string, time.Time) ([]fengqiao.TrendWarning, error) {
	return nil, nil
}

func recordsIn(hub *Hub, name string) int {
	states, _ := hub.Runner.States()
	for _, s := range states {
		if s.Name == name {
			return s.RecordsIn
		}
	}
	return 0
}

func pendingAlerts(hub *Hub) int {
	n, _ := hub.State.Len("alerts/inbox")
	states, _ := hub.Runner.States()
	for _, s := range states {
		if s.Name == "alerts" && s.Cursor == "" {
			return 1 // nothing folded yet
		}
	}
	return n
}

func machine() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s (%d CPU)", host, runtime.NumCPU())
}
