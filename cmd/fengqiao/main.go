// Command fengqiao is the hub: serve from a config file, run the demo with
// simulated upstreams, or issue tokens.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

func main() {
	limitMemory(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first SIGTERM or Ctrl-C ends ctx and every step stops; a second one
	// ends the process at once, whatever it is doing.
	context.AfterFunc(ctx, stop)
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr}
	err := m.Run(ctx, os.Args[1:])
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "fengqiao: 已中断")
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "fengqiao:", err)
		os.Exit(1)
	}
}

// Main is the program, so that tests can run it whole.
type Main struct {
	Stdout, Stderr io.Writer
	// Started, when set, receives the running hub once it serves (tests use it).
	Started func(*Hub)
	// log is the log's configuration (-log-format, -log-level, the config's log).
	log LogConfig
}

const usage = `fengqiao — 县域社会治理数据枢纽（GraphQL 联邦枢纽）

用法：
  fengqiao serve [-config 文件] [-check] [-log-format text|json] [-log-level 级别]
                                     按配置文件（及 FENGQIAO_ 环境变量）启动枢纽；-check 只检查配置
  fengqiao demo [-addr A] [-data D] [-scale S] [-apps N]
                                     启动模拟上游系统 + 枢纽 + 查询台，无需任何配置；-apps 另加 N 个模拟长尾应用
  fengqiao token -config FILE -org CODE -role ROLE [-name NAME] [-ttl D]
                                     签发访问令牌
  fengqiao connector check FILE [-sample 响应.json] [-var 名=值 …]
                                     按清单读取一页上游数据，打印映射结果和全部问题
  fengqiao connector new NAME        生成带注释的接入清单 NAME.yaml
  fengqiao connector replay NAME [-addr A] -token T|@FILE
                                     让运行中的枢纽按当前映射重新处理连接器的隔离记录
  fengqiao connector reset NAME -from 时间 [-addr A] -token T|@FILE
                                     让运行中的枢纽从给定时间起重新读取连接器的上游
  fengqiao bench [-scale S] [-concurrency N] [-requests N] [-storm N] [-json FILE] [-sync-only] [-heapprofile F]
                                     在本机测量同步、检索、驾驶舱、分页、告警风暴和实时读取，打印目标达成表
  fengqiao chains eval [-scale S]    用模拟世界的真实归属衡量串联的准确率和召回率
  fengqiao chains realtext -csv 文件  用真实留言文本衡量串联
  fengqiao chains linkcost           测量十万、百万事件规模下每个事件的串联耗时
  fengqiao reindex [-addr A] -token T|@FILE
                                     让运行中的枢纽从已存事件重建索引并显示进度，完成前旧索引照常应答
  fengqiao report monthly [-addr A] -token T|@FILE [-org CODE] [-month YYYY-MM] [-o FILE]
                                     从运行中的枢纽下载单位的每月通报（Excel），含分镇街数字、环比与本月工单
  fengqiao health [-addr A]          询问运行中枢纽的 /healthz，就绪时退出码 0（容器的健康检查）
  fengqiao version                   显示版本

每个子命令的 -h 显示其全部选项。
`

// Run runs one subcommand until ctx ends.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return errors.New("请指明子命令")
	}
	switch args[0] {
	case "serve":
		return m.serve(ctx, args[1:])
	case "demo":
		return m.demo(ctx, args[1:])
	case "token":
		return m.token(args[1:])
	case "connector":
		return m.connector(ctx, args[1:])
	case "bench":
		return m.bench(ctx, args[1:])
	case "fleet":
		return m.fleetCommand(ctx, args[1:])
	case "chains":
		return m.chainsCommand(ctx, args[1:])
	case "reindex":
		return m.reindexCommand(ctx, args[1:])
	case "report":
		return m.reportCommand(ctx, args[1:])
	case "health":
		return m.health(ctx, args[1:])
	case "version", "-version", "--version":
		fs := m.command("version", "version", "显示版本、构建所用的提交和 Go 版本。")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, versionLine())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprint(m.Stderr, usage)
	return fmt.Errorf("未知的子命令：%s", args[0])
}

// defaultMemoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT
// sets one. Below it the collector lets the heap grow to twice what is live, as
// usual; near it the collector runs more often and gives freed memory back to
// the system, instead of keeping the peak of a first sync's garbage. A
// million events live in ~0.5 GiB of heap (docs/operations.md, "Memory"); the
// rest of a 1 GiB budget is left to Pebble's cache and memtables, outside the
// Go heap. With more live than the limit the collector would run all the
// time (never more than half the CPU): raise it with GOMEMLIMIT (e.g.
// GOMEMLIMIT=2GiB), or turn it off with GOMEMLIMIT=off.
const defaultMemoryLimit = 768 << 20

// limitMemory sets the soft memory limit to defaultMemoryLimit plus extra
// (memory the process holds beside the hub, such as the bench's simulated
// world), unless GOMEMLIMIT set it, and returns it.
func limitMemory(extra int64) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	limit := defaultMemoryLimit + extra
	debug.SetMemoryLimit(limit)
	return limit
}

// logger is the log on stderr, in the format and from the level configured.
func (m *Main) logger() *slog.Logger {
	h, err := newLogHandler(m.Stderr, m.log)
	if err != nil { // checked before: serve and demo refuse a wrong one
		h, _ = newLogHandler(m.Stderr, LogConfig{})
	}
	return slog.New(h)
}

// logFlags adds -log-format and -log-level to fs; they override the config.
func (m *Main) logFlags(fs *command) (format, level *string) {
	format = fs.String("log-format", "", "日志`格式`：text（键=值，默认）或 json（每行一个 JSON 对象）；覆盖配置项 log.format")
	level = fs.String("log-level", "", "日志`级别`：debug、info（默认）、warn 或 error；覆盖配置项 log.level")
	return format, level
}

func (m *Main) serve(ctx context.Context, args []string) error {
	fs := m.command("serve", "serve [-config 文件] [-check] [-log-format text|json] [-log-level 级别]",
		`按配置文件启动枢纽：同步已配置的上游系统，在 addr 上提供 GraphQL、驾驶舱和 /healthz。
每个配置项也可由环境变量 FENGQIAO_… 给出（覆盖文件），密钥可由 FENGQIAO_…_FILE 从文件读取，
见 docs/operations.md。配置无法提供任何数据、连接器缺少地址或凭据、或有未知的配置项时拒绝启动。`)
	path := fs.String("config", "fengqiao.yaml", "配置`文件`的路径；空字符串表示只用环境变量")
	check := fs.Bool("check", false, "只检查配置（及其引用的清单、规则、日历文件），打印检查结果：无问题退出码 0，有问题 1")
	format, level := m.logFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.Fail("多余的参数：%s", strings.Join(fs.Args(), " "))
	}
	cfg, envUsed, err := loadConfig(*path, os.Environ())
	if err != nil {
		return err
	}
	cfg.Log.Format = cmp.Or(*format, cfg.Log.Format)
	cfg.Log.Level = cmp.Or(*level, cfg.Log.Level)
	report := checkConfig(cfg)
	if *check {
		return m.printCheck(*path, envUsed, report)
	}
	if err := report.Err(); err != nil {
		return err
	}
	m.log = cfg.Log
	log := m.logger()
	hub, err := OpenHub(cfg, log)
	if err != nil {
		return err
	}
	defer hub.Close()
	configPath := "（仅环境变量）"
	if *path != "" {
		configPath, _ = filepath.Abs(*path)
	}
	data, _ := filepath.Abs(cfg.Data)
	var names []string
	for _, c := range hub.Runner.Connectors() {
		names = append(names, c.Name())
	}
	index := "bleve"
	if cfg.Elasticsearch != nil {
		index = "elasticsearch"
	}
	started := time.Now()
	log.Info("枢纽启动", "version", versionString(), "config", configPath, "data", data, "addr", hub.Addr(),
		"index", index, "connectors", strings.Join(names, ","), "env", strings.Join(envUsed, ","), "pid", os.Getpid())
	fmt.Fprintf(m.Stdout, "fengqiao 已启动：http://%s/graphql （GraphiQL: http://%s/graphiql）\n", hub.Addr(), hub.Addr())
	if m.Started != nil {
		m.Started(hub)
	}
	go m.showCatchUp(ctx, hub)
	err = hub.Serve(ctx)
	reason := "收到停止信号"
	if ctx.Err() == nil {
		reason = "服务出错"
	}
	attrs := []any{"reason", reason, "uptime", time.Since(started).Round(time.Second).String()}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	log.Info("枢纽停止", attrs...)
	return err
}

// printCheck prints what checking the config found, then its problems; a
// config with problems is an error.
func (m *Main) printCheck(path string, envUsed []string, r *configReport) error {
	if path == "" {
		path = "（无，仅环境变量）"
	}
	fmt.Fprintf(m.Stdout, "配置文件：%s\n", path)
	if len(envUsed) > 0 {
		fmt.Fprintf(m.Stdout, "环境变量：%s\n", strings.Join(envUsed, " "))
	}
	for _, l := range r.Lines {
		fmt.Fprintf(m.Stdout, "%s：%s\n", l[0], l[1])
	}
	if err := r.Err(); err != nil {
		fmt.Fprintln(m.Stdout, err)
		return errCheckFailed
	}
	fmt.Fprintln(m.Stdout, "配置无误，枢纽可以启动。")
	return nil
}
