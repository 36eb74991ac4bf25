package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"fengqiao"
	"fengqiao/chains"
	"fengqiao/tools/sim"
)

// realTextColumns are what the evaluation needs of each message.
var realTextColumns = []string{"id", "reporter", "title", "text", "time"}

// chainsRealText measures linking on messages the project did not generate: it
// serves a CSV of citizen messages as a message-board app, adds the app to a
// scratch hub by a manifest alone, syncs it, and scores the chains against what
// the text itself says (docs/operations.md, "Measuring chains on real text").
func (m *Main) chainsRealText(ctx context.Context, args []string) error {
	fs := m.command("chains realtext", "chains realtext -csv 文件 [-columns id=…,reporter=…,title=…,text=…,time=…] [选项…]",
		"用真实的留言文本（CSV，运行时读取）衡量串联：按清单接入临时枢纽、同步，按文本本身判断串联是否正确。")
	csvPath := fs.String("csv", "", "留言 CSV 文件（运行时读取，不入库）")
	columns := fs.String("columns", "id=留言编号,reporter=留言用户,title=留言主题,text=留言详情,time=留言时间", "列映射：id、reporter、title、text、time 各取 CSV 的哪一列")
	timeLayout := fs.String("timeformat", "2006-01-02 15:04:05", "时间列的格式（Go 布局，按北京时间解读）")
	dup := fs.Float64("dup", 0.8, "近似重复的文本相似度下限（字符三元组 Jaccard）")
	subject := fs.Float64("subject", 0.3, "同一反映人“事由相近”的相似度下限")
	randomPairs := fs.Int("random", 200000, "抽查的不同人、不同事由随机对数")
	labels := fs.String("labels", "", "人工标注文件（from,to,same），按规则计算精确率")
	sample := fs.Int("sample", 0, "每条规则列出几条未标注的串联供人工标注")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *csvPath == "" {
		return fs.Fail("请用 -csv 指定留言 CSV 文件")
	}
	col, err := parseColumns(*columns)
	if err != nil {
		return err
	}
	msgs, rows, err := readMessages(*csvPath, col, *timeLayout)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fengqiao-realtext")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	board, err := sim.Start("127.0.0.1:0", sim.NewMessageBoard(rows, 200).Handler())
	if err != nil {
		return err
	}
	defer board.Close()
	if err := os.WriteFile(filepath.Join(dir, "board.yaml"), []byte(boardManifest(col, *timeLayout)), 0o644); err != nil {
		return err
	}
	cfg := Config{Data: filepath.Join(dir, "data"), Addr: "127.0.0.1:0", Manifests: dir,
		ManifestVars: map[string]string{"BOARD_URL": board.URL}}
	hub, err := OpenHub(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer hub.Close()
	start := time.Now()
	if err := hub.Runner.SyncUntilCaughtUp(ctx); err != nil {
		return err
	}
	member, err := hub.Chains.Membership()
	if err != nil {
		return err
	}
	states, err := hub.Runner.States()
	if err != nil || len(states) != 1 {
		return fmt.Errorf("留言板连接器状态不明：%v", err)
	}
	fmt.Fprintf(m.Stdout, "%d messages from %s: %d indexed, %d quarantined, synced and linked in %.1fs; %d of them in chains\n",
		len(msgs), filepath.Base(*csvPath), states[0].RecordsIn, states[0].Quarantined, time.Since(start).Seconds(), len(member))
	chainOf := func(id string) string { return member[fengqiao.AppEventID(boardApp, id)] }

	// The truth the text gives: near-duplicates, and one reporter's repeated reports.
	sigs := make([]textSig, len(msgs))
	for i, msg := range msgs {
		sigs[i] = signText(msg)
	}
	var dupPairs, dupLinked, repPairs, repLinked int
	for i := range msgs {
		for j := i + 1; j < len(msgs); j++ {
			a, b := &sigs[i], &sigs[j]
			same := chainOf(msgs[i].id) != "" && chainOf(msgs[i].id) == chainOf(msgs[j].id)
			if a.norm == b.norm || lengthsAllow(a.text, b.text, *dup) && chains.Jaccard(a.text, b.text) >= *dup {
				dupPairs++
				if same {
					dupLinked++
				}
			}
			if msgs[i].reporter != "" && msgs[i].reporter == msgs[j].reporter && subjectSimilarity(a, b) >= *subject {
				repPairs++
				if same {
					repLinked++
				}
			}
		}
	}
	fmt.Fprintf(m.Stdout, "near-duplicate pairs (same normalized text, or similarity ≥ %.2f): %d, in one chain %d: recall %.4f\n", *dup, dupPairs, dupLinked, ratio(dupLinked, dupPairs))
	fmt.Fprintf(m.Stdout, "same reporter, similar subject (≥ %.2f): %d pairs, in one chain %d: recall %.4f\n", *subject, repPairs, repLinked, ratio(repLinked, repPairs))

	// False links: random pairs of different reporters about different things.
	rnd := rand.New(rand.NewPCG(1, 2))
	var tried, falseLinks int
	for range *randomPairs {
		i, j := rnd.IntN(len(msgs)), rnd.IntN(len(msgs))
		if i == j || msgs[i].reporter == msgs[j].reporter || subjectSimilarity(&sigs[i], &sigs[j]) >= 0.1 {
			continue
		}
		tried++
		if c := chainOf(msgs[i].id); c != "" && c == chainOf(msgs[j].id) {
			falseLinks++
		}
	}
	fmt.Fprintf(m.Stdout, "random pairs of different reporters and subjects: %d, in one chain %d: false-link rate %.4f\n", tried, falseLinks, ratio(falseLinks, tried))
	clusters, err := hub.Chains.Clusters(ctx, fengqiao.ClusterFilter{MinReporters: 2}, len(msgs))
	if err != nil {
		return err
	}
	bySubject := map[string]int{}
	for _, c := range clusters {
		bySubject[c.TargetKind+"·"+c.Subject]++
	}
	fmt.Fprintf(m.Stdout, "case clusters of two or more reporters: %d, by target kind and subject: %v\n", len(clusters), bySubject)
	return m.linkPrecision(ctx, hub, msgs, *labels, *sample)
}

// message is one row of the CSV, as the evaluation reads it.
type message struct {
	id, reporter, title, text string
	at                        time.Time
}

// parseColumns reads "id=留言编号,reporter=留言用户,…".
func parseColumns(s string) (map[string]string, error) {
	col := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("列映射 %q 应为 名称=列名", kv)
		}
		col[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	for _, k := range realTextColumns {
		if col[k] == "" {
			return nil, fmt.Errorf("列映射缺少 %s", k)
		}
	}
	return col, nil
}

// readMessages reads the CSV: the messages, and each row as the board serves it.
func readMessages(path string, col map[string]string, layout string) ([]message, []map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.LazyQuotes, r.FieldsPerRecord = true, -1
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s：读不到表头：%w", path, err)
	}
	at := map[string]int{}
	for i, h := range header {
		at[strings.TrimPrefix(h, "\ufeff")] = i
	}
	for _, k := range realTextColumns {
		if _, ok := at[col[k]]; !ok {
			return nil, nil, fmt.Errorf("%s 没有列 %q（%s）", path, col[k], k)
		}
	}
	var msgs []message
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s：%w", path, err)
		}
		get := func(k string) string {
			if i := at[col[k]]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		t, err := time.ParseInLocation(layout, get("time"), fengqiao.CST)
		if err != nil || get("id") == "" {
			continue // the hub quarantines such a row too; it has no place in the truth
		}
		row := map[string]string{}
		for _, k := range realTextColumns {
			row[col[k]] = get(k)
		}
		rows = append(rows, row)
		msgs = append(msgs, message{id: get("id"), reporter: get("reporter"), title: get("title"), text: get("text"), at: t})
	}
	return msgs, rows, nil
}

// boardApp names the board's manifest, and so its events' ids: board:<留言编号>.
const boardApp = "board"

// boardManifest is the manifest an integration engineer writes for the board.
func boardManifest(col map[string]string, layout string) string {
	q := func(k string) string { return fmt.Sprintf(`r[%q]`, col[k]) }
	return fmt.Sprintf(`name: `+boardApp+`
title: 留言板
source: APP
baseURL: ${BOARD_URL}
request: {path: /api/messages}
pagination: {type: token, size: 200, tokenParam: pageToken, nextToken: data.nextPageToken}
records: data.list
id: '%s'
event:
  kind: '"REQUEST"'
  title: '%s'
  content: '%s'
  reportedAt: 'parseTime(%s, %q)'
  status: '"RECEIVED"'
  orgCode: '"331081"'
  updatedAt: 'parseTime(%s, %q)'
parties:
  - role: '"留言人"'
    person:
      account: '%s'
`, q("id"), q("title"), q("text"), q("time"), layout, q("time"), layout, q("reporter"))
}

// textSig is what the truth compares, exactly over every pair (not through the
// linker's sketches): normalized text, and the character trigrams of the text and
// bigrams of the title.
type textSig struct {
	norm        string
	text, title []uint32
}

func signText(msg message) textSig {
	norm := chains.NormalizeText(msg.title + msg.text)
	return textSig{norm: norm, text: chains.Shingles(norm, 3), title: chains.Shingles(chains.NormalizeText(msg.title), 2)}
}

// lengthsAllow reports whether sets of these sizes can reach Jaccard t at all.
func lengthsAllow(a, b []uint32, t float64) bool {
	small, large := min(len(a), len(b)), max(len(a), len(b))
	return large > 0 && float64(small) >= t*float64(large)
}

// subjectSimilarity is how alike two messages' subjects are: their titles or
// their texts, whichever is closer.
func subjectSimilarity(a, b *textSig) float64 {
	return max(chains.Jaccard(a.title, b.title), chains.Jaccard(a.text, b.text))
}

func ratio(a, b int) float64 { return float64(a) / float64(max(1, b)) }

// linkPrecision reports, rule by rule, the links made and the share of the hand-
// labelled ones that are right; with sample > 0 it lists unlabelled links of each
// rule to label (from,to,same with same 1 or 0, one per line, ids without "board:").
func (m *Main) linkPrecision(ctx context.Context, hub *Hub, msgs []message, labelsPath string, sample int) error {
	ids := make([]string, len(msgs))
	byID := map[string]*message{}
	for i := range msgs {
		ids[i] = fengqiao.AppEventID(boardApp, msgs[i].id)
		byID[ids[i]] = &msgs[i]
	}
	links, err := hub.Chains.Links(ctx, ids)
	if err != nil {
		return err
	}
	labelled := map[[2]string]bool{}
	if labelsPath != "" {
		if labelled, err = readLabels(labelsPath); err != nil {
			return err
		}
	}
	type tally struct{ links, judged, right int }
	rules := map[string]*tally{}
	unjudged := map[string][]int{}
	for i, l := range links {
		rule := linkRule(l)
		if rules[rule] == nil {
			rules[rule] = &tally{}
		}
		t := rules[rule]
		t.links++
		from, to := strings.TrimPrefix(l.From, boardApp+":"), strings.TrimPrefix(l.To, boardApp+":")
		same, ok := labelled[[2]string{from, to}]
		if !ok {
			same, ok = labelled[[2]string{to, from}]
		}
		if !ok {
			unjudged[rule] = append(unjudged[rule], i)
			continue
		}
		t.judged++
		if same {
			t.right++
		}
	}
	names := make([]string, 0, len(rules))
	for r := range rules {
		names = append(names, r)
	}
	sort.Strings(names)
	fmt.Fprintf(m.Stdout, "%d links; by rule (precision on the hand-labelled ones):\n", len(links))
	for _, r := range names {
		t := rules[r]
		fmt.Fprintf(m.Stdout, "  %-24s %6d links, %4d labelled, precision %.3f\n", r, t.links, t.judged, ratio(t.right, t.judged))
	}
	for _, r := range names {
		todo := unjudged[r]
		rand.New(rand.NewPCG(3, 4)).Shuffle(len(todo), func(i, j int) { todo[i], todo[j] = todo[j], todo[i] })
		for _, i := range todo[:min(sample, len(todo))] {
			l := links[i]
			a, b := byID[l.From], byID[l.To]
			if a == nil || b == nil {
				continue
			}
			fmt.Fprintf(m.Stdout, "\n# %s %v\n%s,%s,?\n  [%s %s] %s｜%.120s\n  [%s %s] %s｜%.120s\n", r, l.Reasons, a.id, b.id,
				a.reporter, a.at.Format("2006-01-02"), a.title, a.text, b.reporter, b.at.Format("2006-01-02"), b.title, b.text)
		}
	}
	return nil
}

// linkRule names the rule of a link: its first rule's name in the link rules file
// (nearDuplicate, sameReporter…).
func linkRule(l fengqiao.Link) string {
	if len(l.Evidence) == 0 {
		return "（无）"
	}
	return l.Evidence[0].Rule
}

// readLabels reads hand labels: from,to,same (1 or 0) per line; # starts a comment.
func readLabels(path string) (map[[2]string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[[2]string]bool{}
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 3 || (f[2] != "1" && f[2] != "0") {
			return nil, fmt.Errorf("%s:%d：应为 from,to,same（same 为 1 或 0）", path, n+1)
		}
		out[[2]string{f[0], f[1]}] = f[2] == "1"
	}
	return out, nil
}
