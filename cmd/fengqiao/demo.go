package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fengqiao"
	"fengqiao/connectors/alerts"
	"fengqiao/connectors/court"
	"fengqiao/connectors/hotline12345"
	"fengqiao/connectors/mediation"
	"fengqiao/connectors/police110"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// demoSeed fixes the demo world: the same people and cases on every start of a day.
const demoSeed = 20260101

// demoPrincipals are the callers the demo hands out tokens for.
var demoPrincipals = []struct {
	key string
	p   fengqiao.Principal
}{
	{"county", fengqiao.Principal{ID: "demo-county", Name: "县社会治理中心值班长", Role: fengqiao.RoleCommander, OrgCode: "331081"}},
	{"town", fengqiao.Principal{ID: "demo-town", Name: "泽国镇分析员", Role: fengqiao.RoleAnalyst, OrgCode: "331081100"}},
	{"village", fengqiao.Principal{ID: "demo-village", Name: "网格员", Role: fengqiao.RoleGridStaff}},
	{"auditor", fengqiao.Principal{ID: "demo-auditor", Name: "县审计员", Role: fengqiao.RoleAuditor, OrgCode: "331081"}},
	{"operator", fengqiao.Principal{ID: "demo-operator", Name: "县中心运维员", Role: fengqiao.RoleOperator, OrgCode: "331081"}},
}

func (m *Main) demo(ctx context.Context, args []string) error {
	fs := m.command("demo", "demo [-addr 地址] [-data 目录] [-scale 比例] [-apps N] [选项…]",
		"生成模拟的温岭县域世界，启动模拟上游系统、枢纽、驾驶舱和查询台，无需任何配置；令牌写入数据目录的 demo-tokens.json。")
	addr := fs.String("addr", "127.0.0.1:8080", "枢纽监听地址")
	data := fs.String("data", "demo-data", "数据目录（索引、同步状态、令牌密钥）")
	scale := fs.Float64("scale", 0.02, "模拟数据规模：真实年量的比例（1 = 全年约15万张12345工单）")
	alertsEvery := fs.Duration("alerts-every", 15*time.Second, "模拟感知平台推送告警的间隔（0 为不推送）")
	requestTimeout := fs.Duration("request-timeout", 15*time.Second, "每个请求的时限（慢机器上演示大规模数据时可放宽）")
	apps := fs.Int("apps", 0, "另外模拟的长尾应用个数（接口风格各异，清单写入数据目录的 manifests/）")
	appRecords := fs.Int("app-records", 300, "每个长尾应用的平均记录数")
	pprof := fs.Bool("pprof", false, "在 /debug/pprof/ 提供性能剖析（仅限县级运维员或指挥长令牌）")
	format, level := m.logFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.Fail("多余的参数：%s", strings.Join(fs.Args(), " "))
	}
	m.log = LogConfig{Format: *format, Level: *level}
	if _, err := newLogHandler(nil, m.log); err != nil {
		return err
	}
	log := m.logger()
	// Another hub on the data directory fails the demo now, not after the world.
	if err := probeData(*data); err != nil {
		return err
	}

	// The simulated upstreams, on loopback, serving a world that ends today.
	today := startOfToday()
	w, err := m.generateWorld(ctx, world.Config{Seed: demoSeed, Scale: *scale, End: today, MalformedRate: 0.002})
	if err != nil {
		return err
	}
	county, err := sim.StartCounty(w)
	if err != nil {
		return err
	}
	defer county.Close()

	cfg := countyConfig(county, *addr, *data)
	fleetLine := ""
	if *apps > 0 {
		// The long tail: generated apps, their manifests beside the shipped ones.
		dir := filepath.Join(*data, "manifests")
		f, err := startFleet(sim.FleetConfig{Seed: demoSeed, Apps: *apps, Records: *appRecords, End: today, MalformedRate: 0.002}, "127.0.0.1:0", dir, true)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.Manifests = dir
		maps.Copy(cfg.ManifestVars, f.Vars)
		fleetLine = fmt.Sprintf("  长尾应用：%d 个，共 %d 条记录（清单在 %s）\n", len(f.Apps), f.Records(), dir)
	}
	cfg.Gateway.RequestTimeout = *requestTimeout
	cfg.Gateway.Pprof = *pprof
	hub, err := OpenHub(cfg, log)
	if err != nil {
		return err
	}
	defer hub.Close()
	// The perception platform pushes a few alerts a minute, as on a quiet day.
	if *alertsEvery > 0 {
		pusher := &sim.Pusher{URL: "http://" + hub.Addr() + "/webhooks/alerts", Secret: county.Secret}
		go pusher.Live(ctx, county.Alerts, *alertsEvery)
	}

	tokens, err := m.demoTokens(hub, *data, w)
	if err != nil {
		return err
	}
	base := "http://" + hub.Addr()
	fmt.Fprintf(m.Stdout, `fengqiao 演示已启动
  模拟上游：12345热线 %d 张工单、调解台账 %d 件、110警情 %d 起、法院立案 %d 件、城管案件 %d 件、
            回访 %d 条、重点项目 %d 个、感知设备 %d 台（告警推送至 /webhooks/alerts）
%s  GraphQL：  %s/graphql
  驾驶舱：   %s/cockpit#token=%s
  查询台：   %s/graphiql#token=%s
  健康检查： %s/healthz     指标：%s/metrics（详细健康信息与指标须携带县级运维员或指挥长令牌）
  令牌（已写入 %s）：
    县级 county：   %s
    镇级 town：     %s
    村级 village：  %s
    审计 auditor：  %s
    运维 operator： %s
`, len(w.Hotline), len(w.Mediation), len(w.Police), len(w.Court), len(w.City), len(w.Surveys), len(w.Projects), len(w.Devices),
		fleetLine, base, base, tokens["county"], base, tokens["county"], base, base,
		filepath.Join(*data, "demo-tokens.json"), tokens["county"], tokens["town"], tokens["village"], tokens["auditor"], tokens["operator"])
	if m.Started != nil {
		m.Started(hub)
	}
	go m.showCatchUp(ctx, hub)
	go m.reportFirstSync(ctx, hub)
	return hub.Serve(ctx)
}

// startOfToday is today's midnight in China Standard Time: the simulated
// records end there.
func startOfToday() time.Time {
	y, mo, d := time.Now().In(world.CST).Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, world.CST)
}

// generateWorld makes the simulated county's world, showing progress on stderr;
// it stops when ctx ends.
func (m *Main) generateWorld(ctx context.Context, cfg world.Config) (*world.World, error) {
	cfg.Progress = m.progress("生成模拟世界").Report
	return world.GenerateContext(ctx, cfg)
}

// countyConfig is the hub's configuration for a simulated county: every upstream,
// the shipped manifests included.
func countyConfig(c *sim.County, addr, data string) Config {
	return Config{
		Addr: addr, Data: data, SyncInterval: 10 * time.Second,
		Hotline12345: &hotline12345.Config{BaseURL: c.URL["hotline"], APIKey: c.Secret},
		Mediation:    &mediation.Config{BaseURL: c.URL["mediation"], AppID: "fengqiao", Secret: c.Secret},
		Police110:    &police110.Config{BaseURL: c.URL["police"], ClientID: "fengqiao", ClientSecret: c.Secret},
		Court:        &court.Config{BaseURL: c.URL["court"], User: "fengqiao", Password: c.Secret},
		Alerts:       &alerts.Config{BaseURL: c.URL["alerts"], APIKey: c.Secret, WebhookSecret: c.Secret},
		Manifests:    "builtin",
		ManifestVars: map[string]string{
			"CITYMGMT_URL": c.URL["city"], "CITYMGMT_KEY": c.Secret,
			"SURVEYS_URL": c.URL["surveys"], "SURVEYS_KEY": "fengqiao", "SURVEYS_SECRET": c.Secret,
			"PROJECTS_URL": c.URL["projects"], "PROJECTS_CLIENT_ID": "fengqiao", "PROJECTS_CLIENT_SECRET": c.Secret,
		},
	}
}

// demoTokens issues a token for each demo principal and writes them to
// <data>/demo-tokens.json. The village is the busiest village of the town.
func (m *Main) demoTokens(hub *Hub, data string, w *world.World) (map[string]string, error) {
	village := busiestVillage(w, demoPrincipals[1].p.OrgCode)
	tokens := map[string]string{}
	for _, d := range demoPrincipals {
		p := d.p
		if d.key == "village" {
			p.OrgCode, p.Name = village.Code, village.Name+p.Name
		}
		t, err := hub.Tokens.Issue(p, 30*24*time.Hour)
		if err != nil {
			return nil, err
		}
		tokens[d.key] = t
	}
	b, _ := json.MarshalIndent(tokens, "", "  ")
	return tokens, os.WriteFile(filepath.Join(data, "demo-tokens.json"), b, 0o600)
}

// busiestVillage returns the village of town with the most hotline work orders.
func busiestVillage(w *world.World, town string) *fengqiao.OrgUnit {
	counts := map[string]int{}
	for _, o := range w.Hotline {
		counts[o.QHDM]++
	}
	var best *fengqiao.OrgUnit
	for _, v := range w.Tree.Unit(town).Children() {
		if best == nil || counts[v.Code] > counts[best.Code] {
			best = v
		}
	}
	return best
}

// reportFirstSync prints once every connector has caught up.
func (m *Main) reportFirstSync(ctx context.Context, hub *Hub) {
	start := time.Now()
	for !hub.Runner.Ready() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	n, _ := hub.Index.Count(ctx, fengqiao.EventFilter{})
	fmt.Fprintf(m.Stdout, "首次同步完成：索引中共 %d 条事件，用时 %.1f 秒\n", n, time.Since(start).Seconds())
}
