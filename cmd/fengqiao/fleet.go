package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"fengqiao/connectors/manifests"
	"fengqiao/tools/sim"
)

// fleet is a running sim.Fleet whose manifests are written into a folder.
type fleet struct {
	*sim.Fleet
	running *sim.Running
	// Vars are the manifest variables the apps' manifests name.
	Vars map[string]string
}

// startFleet generates and serves on addr the apps cfg describes, and writes the manifest
// of each into dir as <name>.yaml — and the shipped manifests too when builtin is
// set — replacing the *.yaml there: the hub loads them from dir like any other.
func startFleet(cfg sim.FleetConfig, addr, dir string, builtin bool) (*fleet, error) {
	f := &fleet{Fleet: sim.NewFleet(cfg)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			return nil, err
		}
	}
	files := map[string][]byte{}
	if builtin {
		shipped, _ := fs.Glob(manifests.FS, "*.yaml")
		for _, name := range shipped {
			b, err := fs.ReadFile(manifests.FS, name)
			if err != nil {
				return nil, err
			}
			files[name] = b
		}
	}
	for _, a := range f.Apps {
		files[a.Name+".yaml"] = []byte(a.Manifest())
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	var err error
	if f.running, err = f.Start(addr); err != nil {
		return nil, err
	}
	f.Vars = map[string]string{"FLEET_URL": f.running.URL, "FLEET_SECRET": f.Secret}
	return f, nil
}

// Close stops the apps.
func (f *fleet) Close() { f.running.Close() }

// fleetCommand serves generated long-tail apps until ctx ends, their manifests
// written into a folder, for a hub started apart (serve, or bench -apps).
func (m *Main) fleetCommand(ctx context.Context, args []string) error {
	fs := m.command("fleet", "fleet -manifests 目录 [-apps N] [-records N] [-seed S] [-addr 地址]",
		"启动 N 个接口风格各异的模拟长尾应用（分页、时间游标、报文结构、字段命名、鉴权、限流各不相同），把各自的接入清单写入目录，"+
			"在第一行打印清单变量 FLEET_URL、FLEET_SECRET（JSON），随后服务直至中断；GET /_fleet/stats 给出连接数峰值等数字。")
	dir := fs.String("manifests", "", "写入接入清单的目录（其中原有的 *.yaml 会被替换）")
	apps := fs.Int("apps", 90, "应用个数")
	records := fs.Int("records", 3000, "每个应用的平均记录数")
	seed := fs.Int64("seed", demoSeed, "随机种子：同一种子生成同样的应用和记录")
	addr := fs.String("addr", "127.0.0.1:0", "监听地址（所有应用共用，各在 /{name}/ 下）")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *apps < 1 || *records < 1 {
		return fs.Fail("须给出 -manifests 目录，-apps、-records 须为正数")
	}
	f, err := startFleet(sim.FleetConfig{Seed: *seed, Apps: *apps, Records: *records, End: startOfToday(), MalformedRate: 0.002},
		*addr, *dir, false)
	if err != nil {
		return err
	}
	defer f.Close()
	b, _ := json.Marshal(f.Vars)
	fmt.Fprintln(m.Stdout, string(b))
	fmt.Fprintf(m.Stderr, "%d 个长尾应用，共 %d 条记录，清单在 %s；%s\n", len(f.Apps), f.Records(), *dir, strings.TrimSpace(f.Vars["FLEET_URL"]))
	<-ctx.Done()
	return nil
}
