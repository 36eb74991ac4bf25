// Command fengqiao is the hub: serve from a config file, run the demo with
// simulated upstreams, or issue tokens.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
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
}

const usage = `fengqiao — 县域社会治理数据枢纽 (GraphQL federation hub)

用法 usage:
  fengqiao serve -config FILE        按配置文件启动枢纽
  fengqiao demo [-addr A] [-data D] [-scale S]
                                     启动模拟上游系统 + 枢纽 + 查询台，无需任何配置
  fengqiao token -config FILE -org CODE -role ROLE [-name NAME] [-ttl D]
                                     签发访问令牌
  fengqiao connector check FILE [-sample 响应.json] [-var 名=值 …]
                                     按清单读取一页上游数据，打印映射结果和全部问题
  fengqiao connector new NAME        生成带注释的接入清单 NAME.yaml
  fengqiao bench [-scale S] [-concurrency N] [-requests N] [-storm N] [-json FILE] [-sync-only] [-heapprofile F]
                                     在本机测量同步、检索、驾驶舱、分页、告警风暴和实时读取，打印目标达成表
  fengqiao chains eval [-scale S]    用模拟世界的真实归属衡量串联的准确率和召回率
  fengqiao reindex [-addr A] -token T|@FILE
                                     让运行中的枢纽从已存事件重建索引并显示进度，完成前旧索引照常应答
  fengqiao chains linkcost           测量十万、百万事件规模下每个事件的串联耗时
  fengqiao report monthly [-addr A] -token T|@FILE [-org CODE] [-month YYYY-MM] [-o FILE]
                                     从运行中的枢纽下载单位的每月通报（Excel），含分镇街数字、环比与本月工单
`

// Run runs one subcommand until ctx ends.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return flag.ErrHelp
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
	case "chains":
		return m.chainsCommand(ctx, args[1:])
	case "reindex":
		return m.reindexCommand(ctx, args[1:])
	case "report":
		return m.reportCommand(ctx, args[1:])
	case "help", "-h", "--help":
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

func (m *Main) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func (m *Main) serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	path := fs.String("config", "fengqiao.yaml", "配置文件路径")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := LoadConfig(*path)
	if err != nil {
		return err
	}
	hub, err := OpenHub(cfg, m.logger())
	if err != nil {
		return err
	}
	defer hub.Close()
	fmt.Fprintf(m.Stdout, "fengqiao 已启动：http://%s/graphql （GraphiQL: http://%s/graphiql）\n", hub.Addr(), hub.Addr())
	if m.Started != nil {
		m.Started(hub)
	}
	go m.showCatchUp(ctx, hub)
	return hub.Serve(ctx)
}
