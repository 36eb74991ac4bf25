package chains_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/chains"
)

// citizenStream writes reports the way citizens write them, from phrases written
// for this benchmark: a place or target, a complaint told in three to six
// sentences drawn from its own pool, a reporter (an app account, or a caller's
// name and phone), a year's spread of time. One report in twelve is an earlier
// one posted again, lightly edited; one in eight is its reporter's follow-up on
// an earlier complaint of theirs.
type citizenStream struct {
	rnd      *rand.Rand
	villages []*fengqiao.OrgUnit
	n        int
	start    time.Time
	recent   []*fengqiao.Event // the last reports, to post again or follow up
}

var (
	benchEstates = []string{"翠竹苑", "锦绣花园", "东湖名苑", "金域华府", "阳光水岸", "滨海明珠", "翠屏山庄", "新城家园", "梧桐公寓", "星河大厦"}
	benchFirms   = []string{"青禾智造科技", "海润水产", "东辰鞋业", "远帆机电", "瑞丰物流", "金鹰健身服务", "恒泰建设工程", "九龙汽摩配件"}
	benchSchools = []string{"松溪实验小学", "城东中学", "育英幼儿园", "滨海中学"}
	benchRoads   = []string{"中心路", "东海大道", "新河路", "万昌路", "人民路", "横湖路", "锦屏路", "九龙大道"}
	// Each subject's sentences are made of parts, one of each drawn at random:
	// two reports of one subject share some words, as citizens' do, not whole
	// sentences.
	benchSubjects = []struct {
		title     string
		sentences [][]string
	}{
		{"{地}地下车库长期积水", [][]string{
			{"{地}地下车库", "我们{地}的车库", "{地}负一楼"}, {"入口处积水已经", "一直在渗水，前后", "漏水问题拖了"}, {"两个多月", "大半年", "快一年了"},
			{"，每逢下雨", "，一下大雨", "，雨季的时候"}, {"水深没过脚踝", "积水有十几公分深", "车子都泡在水里"},
			{"。业主多次向物业反映", "。打了好几次电话给物业", "。我们在业主群里反映过"}, {"，始终没有找到原因", "，物业只是派人扫一扫", "，物业说要等维修基金"},
			{"。车库里的电线泡在水里", "。墙面已经开始发霉", "。老人小孩进出很危险"}, {"，存在很大的安全隐患。", "，让人非常担心。", "，希望尽快解决。"}}},
		{"{企}拖欠工资", [][]string{
			{"我们在{企}上班", "本人是{企}的员工", "我老公在{企}做了两年"}, {"，已经", "，到现在", "，老板"}, {"三个月没有发工资", "拖欠工资快半年", "一分钱工资都没拿到"},
			{"。老板说资金周转不开", "。厂里说订单款没回来", "。财务说下个月一定发"}, {"，一拖再拖", "，一直在推", "，可是到时间又不发"},
			{"。厂里有几十名工人", "。和我一样的工友有二十多个", "。很多人家里等着钱交学费"}, {"，去劳动监察大队反映过", "，打过12345", "，找过镇里"},
			{"，至今没有结果。", "，说会协调但没有下文。", "，还是没有拿到钱。"}}},
		{"{地}夜间施工噪音扰民", [][]string{
			{"{地}旁边的工地", "{地}对面在建的楼盘", "我家楼下的{地}工地"}, {"每天晚上十一点以后", "半夜一两点", "连着一个星期晚上"}, {"还在施工", "还在打桩", "搅拌机一直在响"},
			{"，声音非常大", "，震得窗户嗡嗡响", "，吵得根本睡不着"}, {"，周边居民无法休息。", "，孩子第二天还要上学。", "，老人心脏受不了。"},
			{"打过城管电话", "报过警", "找过工地负责人"}, {"，来了就停，走了又开工", "，说办了夜间施工许可", "，对方根本不理"}, {"，请求查处。", "，希望管一管。", "，到底有没有人管？"}}},
		{"{校}门口接送拥堵", [][]string{
			{"每天放学时", "早上七点半左右", "下午四点多"}, {"{校}门口", "{校}附近的路口", "{校}东门"}, {"家长车辆乱停", "接孩子的电动车堵成一片", "私家车双排停放"},
			{"，整条路堵得水泄不通", "，公交车都过不去", "，救护车都进不来"}, {"。学生横穿马路", "。孩子从车缝里钻出来", "。上周还发生了刮擦"},
			{"，非常危险。", "，看着都害怕。", "，迟早要出事。"}, {"建议交警安排人员疏导", "能否开辟临时停车区域", "希望学校错峰放学"}, {"。", "，谢谢。", "！"}}},
		{"{企}预付卡无法退费", [][]string{
			{"本人在{企}办理了预付卡", "去年在{企}充值了会员卡", "我和家人在{企}办了年卡"}, {"，充值五千元", "，花了三千八", "，卡里还有两千多"},
			{"。上个月门店突然关门", "。前几天去发现门店贴了停业通知", "。现在店里已经人去楼空"}, {"，老板联系不上", "，电话打不通", "，微信也把我们拉黑了"},
			{"。像我这样的会员有几百人", "。群里有一百多个会员", "。很多都是老人"}, {"，请求帮助维权", "，希望市场监管部门介入", "，要求退还剩余费用"}, {"。", "！", "，谢谢。"}}},
		{"咨询{村}宅基地审批", [][]string{
			{"我是{村}村民", "本人户口在{村}", "家里老房子在{村}"}, {"，想翻建老房子", "，房子已经是危房", "，准备拆旧建新"},
			{"。请问宅基地审批需要哪些材料", "。想问一下建房要办什么手续", "。审批流程要多长时间"},
			{"？村里说要等镇里统一规划", "？村干部说今年不批", "？镇里说材料不齐"}, {"，规划什么时候出来", "，到底什么时候能批", "，具体缺什么也说不清"}, {"？", "。希望尽快答复。", "，谢谢！"}}},
	}
)

func newCitizenStream(tree *fengqiao.OrgTree) *citizenStream {
	return &citizenStream{rnd: rand.New(rand.NewPCG(7, 11)), villages: tree.Units(fengqiao.LevelVillage),
		start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *citizenStream) pick(list []string) string { return list[c.rnd.IntN(len(list))] }

// next returns k more reports, about 1 M a year.
func (c *citizenStream) next(k int) []*fengqiao.Event {
	out := make([]*fengqiao.Event, k)
	for i := range out {
		c.n++
		at := c.start.Add(time.Duration(c.n) * 30 * time.Second)
		var e *fengqiao.Event
		switch r := c.rnd.IntN(24); {
		case r < 2 && len(c.recent) > 0: // posted again, lightly edited
			e = c.again(c.recent[c.rnd.IntN(len(c.recent))], at)
		case r < 5 && len(c.recent) > 0: // the reporter follows up
			e = c.followUp(c.recent[c.rnd.IntN(len(c.recent))], at)
		default:
			e = c.report(at)
		}
		out[i] = e
		if len(c.recent) < 2000 {
			c.recent = append(c.recent, e)
		} else {
			c.recent[c.rnd.IntN(len(c.recent))] = e
		}
	}
	return out
}

func (c *citizenStream) event(at time.Time, orgCode, title, content string, reporter fengqiao.Party) *fengqiao.Event {
	src := fengqiao.SourceApp
	if reporter.Person.Phone != "" {
		src = fengqiao.SourceHotline12345
	}
	id := "B" + strconv.Itoa(c.n)
	return &fengqiao.Event{ID: fengqiao.EventID(src, id), Source: src, SourceID: id, Title: title, Content: content,
		OrgCode: orgCode, ReportedAt: at, UpdatedAt: at, Status: fengqiao.StatusReceived, Parties: []fengqiao.Party{reporter}}
}

func (c *citizenStream) report(at time.Time) *fengqiao.Event {
	v := c.villages[c.rnd.IntN(len(c.villages))]
	subject := benchSubjects[c.rnd.IntN(len(benchSubjects))]
	fill := strings.NewReplacer("{地}", v.Name+c.pick(benchEstates), "{企}", c.pick(benchFirms)+fmt.Sprintf("%03d", c.rnd.IntN(500))+"有限公司",
		"{校}", v.Name+c.pick(benchSchools), "{村}", v.Name)
	var content strings.Builder
	for _, parts := range subject.sentences {
		content.WriteString(c.pick(parts))
	}
	fmt.Fprintf(&content, "地址：%s%s%d号。", v.Name, c.pick(benchRoads), 1+c.rnd.IntN(400))
	who := c.rnd.IntN(300_000)
	reporter := fengqiao.Party{Role: "留言人", Person: fengqiao.NewPerson("", "", "", v.Code,
		fengqiao.Identifier{Scheme: fengqiao.AccountScheme("board"), Value: "U" + strconv.Itoa(who)})}
	if who%3 == 0 {
		reporter = fengqiao.Party{Role: "来电人", Person: fengqiao.NewPerson("居民"+strconv.Itoa(who), "", fmt.Sprintf("139%08d", who), v.Code)}
	}
	e := c.event(at, v.Code, fill.Replace(subject.title), fill.Replace(content.String()), reporter)
	if c.rnd.IntN(3) == 0 {
		e.Address = fmt.Sprintf("温岭市%s%s%s%d号", v.Parent().Name, v.Name, c.pick(benchRoads), 1+c.rnd.IntN(400))
	}
	return e
}

// again posts an earlier report again: punctuation and spacing changed, a
// sentence dropped or added.
func (c *citizenStream) again(prev *fengqiao.Event, at time.Time) *fengqiao.Event {
	content := strings.NewReplacer("。", "！", "，", ", ").Replace(prev.Content)
	if c.rnd.IntN(2) == 0 {
		content += "请尽快处理，谢谢！"
	} else if i := strings.Index(content, "！"); i > 0 {
		content = content[i+len("！"):]
	}
	return c.event(at, prev.OrgCode, prev.Title+"！", content, prev.Parties[0])
}

// followUp is the reporter's new report on an earlier complaint of theirs.
func (c *citizenStream) followUp(prev *fengqiao.Event, at time.Time) *fengqiao.Event {
	return c.event(at, prev.OrgCode, "再次反映"+prev.Title+"仍未解决", "上次反映的问题至今没有改善，请相关部门重视。", prev.Parties[0])
}

// BenchmarkLink measures linking one more report into a store that holds size
// reports already, text and sketch included: the cost should not grow with the
// store. One store grows through the sizes, as a hub's does. CHAINS_BENCH_SIZES
// sets them (default 100000; filling to 1000000 takes some minutes);
// CHAINS_BENCH_PROFILE=file writes the CPU profile of each size's measured
// reports to file.<size>.
func BenchmarkLink(b *testing.B) {
	sizes := []int{100_000}
	if env := os.Getenv("CHAINS_BENCH_SIZES"); env != "" {
		sizes = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	tree := fengqiao.Wenling()
	s, err := chains.Open(filepath.Join(b.TempDir(), "chains"), tree)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	stream := newCitizenStream(tree)
	const batch = 500
	linked := 0
	for _, size := range sizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			for linked < size {
				n := min(batch, size-linked)
				if err := s.Link(ctx, stream.next(n)); err != nil {
					b.Fatal(err)
				}
				linked += n
			}
			if path := os.Getenv("CHAINS_BENCH_PROFILE"); path != "" && b.N > 1 {
				f, err := os.Create(fmt.Sprintf("%s.%d", path, size))
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
			// The reports are written with the timer stopped. CPU time is the whole
			// process's while linking, Pebble's compactions included: on a shared
			// machine it varies less than the elapsed time.
			var cpu time.Duration
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				b.StopTimer()
				events := stream.next(min(batch, b.N-done))
				b.StartTimer()
				before := cpuTime()
				if err := s.Link(ctx, events); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - before
			}
			b.StopTimer()
			linked += b.N
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/event")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
		})
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
