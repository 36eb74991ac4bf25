package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"fengqiao"
	"fengqiao/chains"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// chainsCommand runs the chain subcommands.
func (m *Main) chainsCommand(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "eval" {
		return m.chainsEval(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "realtext" {
		return m.chainsRealText(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "linkcost" {
		return m.linkCost(args[1:])
	}
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(m.Stdout, chainsUsage)
		return nil
	}
	fmt.Fprint(m.Stderr, chainsUsage)
	if len(args) == 0 {
		return errors.New("请指明 chains 的子命令")
	}
	return fmt.Errorf("未知的 chains 子命令：%s", args[0])
}

const chainsUsage = `用法：
  fengqiao chains eval [-scale S]             用模拟世界的真实归属衡量串联的准确率和召回率
  fengqiao chains realtext -csv 文件           用真实留言文本衡量串联
  fengqiao chains linkcost [-sizes 100000,1000000]
                                              测量各规模下每个事件的串联耗时

每个子命令的 -h 显示其全部选项。
`

// chainsEval syncs a simulated county and measures the chains against the world's
// truth: pairwise precision and recall of "same matter" over every event.
func (m *Main) chainsEval(ctx context.Context, args []string) error {
	fs := m.command("chains eval", "chains eval [-scale S] [-seed N] [-show N]",
		"同步一个模拟县域，用模拟世界的真实归属衡量串联的准确率和召回率。")
	scale := fs.Float64("scale", 0.02, "模拟数据规模（默认与演示相同）")
	seed := fs.Int64("seed", demoSeed, "世界的随机种子")
	show := fs.Int("show", 0, "列出几条错误串联的例子")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fengqiao-chains")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	w, err := m.generateWorld(ctx, world.Config{Seed: *seed, Scale: *scale, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST), MalformedRate: 0.002})
	if err != nil {
		return err
	}
	county, err := sim.StartCounty(w)
	if err != nil {
		return err
	}
	defer county.Close()
	hub, err := OpenHub(countyConfig(county, "127.0.0.1:0", dir), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer hub.Close()
	start := time.Now()
	if err := hub.Runner.SyncUntilCaughtUp(ctx); err != nil {
		return err
	}
	ids, err := allIDs(ctx, hub.Index)
	if err != nil {
		return err
	}
	member, err := hub.Chains.Membership()
	if err != nil {
		return err
	}
	r := scoreChains(ids, member, w.Truth)
	fmt.Fprintf(m.Stdout, "%d events synced and linked in %.1fs (scale %g, seed %d)\n", len(ids), time.Since(start).Seconds(), *scale, *seed)
	fmt.Fprintf(m.Stdout, "same-matter pairs: %d true, %d linked, %d both\n", r.truePairs, r.linkedPairs, r.bothPairs)
	fmt.Fprintf(m.Stdout, "precision %.4f  recall %.4f\n", r.precision(), r.recall())
	if top, err := hub.Chains.Chains(ctx, fengqiao.ChainFilter{}, 1); err == nil && len(top) > 0 {
		links, _ := hub.Chains.Links(ctx, top[0].EventIDs)
		reasons := map[string]int{}
		for _, l := range links {
			for _, why := range l.Reasons {
				reasons[why]++
			}
		}
		fmt.Fprintf(m.Stdout, "largest chain: %d events, %d links; most common reasons:\n", len(top[0].EventIDs), len(links))
		common := make([]string, 0, len(reasons))
		for why := range reasons {
			common = append(common, why)
		}
		sort.Slice(common, func(i, j int) bool { return reasons[common[i]] > reasons[common[j]] })
		for _, why := range common[:min(5, len(common))] {
			fmt.Fprintf(m.Stdout, "  %5d %s\n", reasons[why], why)
		}
	}
	// Why links that join different matters were made.
	if links, err := hub.Chains.Links(ctx, ids); err == nil {
		wrong := map[string]int{}
		var examples []fengqiao.Link
		for _, l := range links {
			if a, b := w.Truth[l.From], w.Truth[l.To]; a == "" || a != b {
				for _, why := range l.Reasons {
					wrong[strings.SplitN(why, "：", 2)[0]]++
				}
				examples = append(examples, l)
			}
		}
		fmt.Fprintf(m.Stdout, "%d links in all; links joining different matters, by reason: %v\n", len(links), wrong)
		for _, l := range examples[:min(*show, len(examples))] {
			found, _ := hub.Index.Lookup(ctx, []string{l.From, l.To})
			fmt.Fprintf(m.Stdout, "  %v\n    %s %s「%s」\n    %s %s「%s」\n", l.Reasons, l.From, w.Truth[l.From], found[l.From].Title, l.To, w.Truth[l.To], found[l.To].Title)
		}
	}
	fmt.Fprintln(m.Stdout, "recall by kind of matter:")
	for _, k := range sortedKinds(r.byKind) {
		s := r.byKind[k]
		fmt.Fprintf(m.Stdout, "  %-10s %7d pairs  recall %.4f\n", k, s[0], float64(s[1])/float64(max(1, s[0])))
	}
	return nil
}

type chainScore struct {
	truePairs, linkedPairs, bothPairs int
	byKind                            map[string][2]int // true pairs, linked of them
}

func (r chainScore) precision() float64 { return float64(r.bothPairs) / float64(max(1, r.linkedPairs)) }
func (r chainScore) recall() float64    { return float64(r.bothPairs) / float64(max(1, r.truePairs)) }

// scoreChains counts pairs of events: in one chain, of one matter, and both. An
// event in no chain, or of no matter, is alone.
func scoreChains(ids []string, chainOf, matterOf map[string]string) chainScore {
	pairs := func(n int) int { return n * (n - 1) / 2 }
	chains, matters, cells := map[string]int{}, map[string]int{}, map[[2]string]int{}
	for _, id := range ids {
		c, m := chainOf[id], matterOf[id]
		if c != "" {
			chains[c]++
		}
		if m != "" {
			matters[m]++
		}
		if c != "" && m != "" {
			cells[[2]string{c, m}]++
		}
	}
	r := chainScore{byKind: map[string][2]int{}}
	for _, n := range chains {
		r.linkedPairs += pairs(n)
	}
	for m, n := range matters {
		r.truePairs += pairs(n)
		k := strings.SplitN(m, "-", 2)[0]
		s := r.byKind[k]
		s[0] += pairs(n)
		r.byKind[k] = s
	}
	for cell, n := range cells {
		r.bothPairs += pairs(n)
		k := strings.SplitN(cell[1], "-", 2)[0]
		s := r.byKind[k]
		s[1] += pairs(n)
		r.byKind[k] = s
	}
	return r
}

func sortedKinds(m map[string][2]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// allIDs lists every indexed event.
func allIDs(ctx context.Context, idx fengqiao.Index) ([]string, error) {
	var out []string
	for after := ""; ; {
		page, err := idx.Search(ctx, fengqiao.EventQuery{First: fengqiao.MaxPageSize, After: after})
		if err != nil {
			return nil, err
		}
		for _, e := range page.Events {
			out = append(out, e.ID)
		}
		if !page.HasNext {
			return out, nil
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
}

// linkCost measures what linking one event costs as the chain state grows: it
// links a synthetic stream of events and times the 10,000 after each size.
func (m *Main) linkCost(args []string) error {
	fs := m.command("chains linkcost", "chains linkcost [-sizes 100000,1000000] [-cpuprofile 文件]",
		"测量十万、百万事件规模下每个事件的串联耗时。")
	sizes := fs.String("sizes", "100000,1000000", "在这些事件数之后各测 10,000 个事件")
	profile := fs.String("cpuprofile", "", "把 CPU 剖析写入此文件")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var marks []int
	for _, s := range strings.Split(*sizes, ",") {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil {
			return fmt.Errorf("-sizes：%q 不是数字", s)
		}
		marks = append(marks, n)
	}
	dir, err := os.MkdirTemp("", "fengqiao-linkcost")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tree := fengqiao.Wenling()
	store, err := chains.Open(filepath.Join(dir, "chains"), tree)
	if err != nil {
		return err
	}
	defer store.Close()
	stream := newSyntheticStream(tree)
	const measure, batch = 10000, 1000
	done := 0
	for _, mark := range marks {
		for done < mark {
			if err := store.Link(context.Background(), stream.next(min(batch, mark-done))); err != nil {
				return err
			}
			done += min(batch, mark-done)
		}
		start := time.Now()
		for i := 0; i < measure; i += batch {
			if err := store.Link(context.Background(), stream.next(batch)); err != nil {
				return err
			}
		}
		done += measure
		fmt.Fprintf(m.Stdout, "after %8d events: %.1f µs to link an event (%d measured)\n", mark, float64(time.Since(start).Microseconds())/measure, measure)
	}
	return nil
}
