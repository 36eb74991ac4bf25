package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"fengqiao"
	"fengqiao/connectors/hotline12345"
	"fengqiao/connectors/mediation"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// demoSeed fixes the demo world: the same people and cases on every start of a day.
const demoSeed = 20260101

// demoPrincipals are the three callers the demo hands out tokens for.
var demoPrincipals = []struct {
	key string
	p   fengqiao.Principal
}{
	{"county", fengqiao.Principal{ID: "demo-county", Name: "县社会治理中心值班长", Role: fengqiao.RoleCommander, OrgCode: "331081"}},
	{"town", fengqiao.Principal{ID: "demo-town", Name: "泽国镇分析员", Role: fengqiao.RoleAnalyst, OrgCode: "331081100"}},
	{"village", fengqiao.Principal{ID: "demo-village", Name: "网格员", Role: fengqiao.RoleGridStaff}},
}

func (m *Main) demo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "枢纽监听地址")
	data := fs.String("data", "demo-data", "数据目录（索引、同步状态、令牌密钥）")
	scale := fs.Float64("scale", 0.02, "模拟数据规模：真实年量的比例（1 = 全年约15万张12345工单）")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := m.logger()

	// The simulated upstreams, on loopback, serving a world that ends today.
	y, mo, d := time.Now().In(world.CST).Date()
	today := time.Date(y, mo, d, 0, 0, 0, 0, world.CST)
	w := world.Generate(world.Config{Seed: demoSeed, Scale: *scale, End: today, MalformedRate: 0.002})
	apiKey, appID, secret := randomHex(16), "fengqiao-demo", randomHex(16)
	hotlineSim := sim.NewHotline12345(w, apiKey)
	mediationSim := sim.NewMediation(w, appID, secret)
	var sims []*sim.Running
	defer func() {
		for _, s := range sims {
			s.Close()
		}
	}()
	for _, h := range []interface{ Handler() http.Handler }{hotlineSim, mediationSim} {
		s, err := sim.Start("127.0.0.1:0", h.Handler())
		if err != nil {
			return err
		}
		sims = append(sims, s)
	}

	cfg := Config{
		Addr: *addr, Data: *data, SyncInterval: 10 * time.Second,
		Hotline12345: &hotline12345.Config{BaseURL: sims[0].URL, APIKey: apiKey},
		Mediation:    &mediation.Config{BaseURL: sims[1].URL, AppID: appID, Secret: secret},
	}
	hub, err := OpenHub(cfg, log)
	if err != nil {
		return err
	}
	defer hub.Close()

	tokens, err := m.demoTokens(hub, *data, w)
	if err != nil {
		return err
	}
	base := "http://" + hub.Addr()
	fmt.Fprintf(m.Stdout, `fengqiao 演示已启动
  模拟上游：12345热线 %s（%d 张工单）  矛盾纠纷调处台账 %s（%d 件案件）
  GraphQL：  %s/graphql
  查询台：   %s/graphiql#token=%s
  健康检查： %s/healthz     指标：%s/metrics
  令牌（已写入 %s）：
    县级 county：  %s
    镇级 town：    %s
    村级 village： %s
`, sims[0].URL, hotlineSim.Len(), sims[1].URL, mediationSim.Len(), base, base, tokens["county"], base, base,
		filepath.Join(*data, "demo-tokens.json"), tokens["county"], tokens["town"], tokens["village"])
	if m.Started != nil {
		m.Started(hub)
	}
	go m.reportFirstSync(ctx, hub)
	return hub.Serve(ctx)
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

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
