package chains

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// TargetKind is what sort of thing a report names: 单位, 学校, 医院, 小区, 市场, 项目.
type TargetKind string

// The kinds of targets, each its Chinese word.
const (
	TargetOrganization TargetKind = "单位" // …有限公司, …合作社
	TargetSchool       TargetKind = "学校" // …学校, …小学, …中学, …幼儿园, …学院, …大学
	TargetHospital     TargetKind = "医院" // …医院, …卫生院
	TargetEstate       TargetKind = "小区" // …小区, …花园, …苑, …公寓, …大厦, …家园, …山庄
	TargetMarket       TargetKind = "市场" // …市场
	TargetProject      TargetKind = "项目" // …项目, …工程
)

// Target is a particular organization, school, hospital, estate, market or
// project named in a text, found by the form of its name rather than by a local
// prefix.
type Target struct {
	Kind TargetKind
	// Name is the name as keyed (but for letters' case): width-folded, without
	// the province, city, district and town before it (泽国镇楼下社区锦绣花园 →
	// 楼下社区锦绣花园), unless the rest alone names nothing in particular
	// (泽国镇中心小学 stays).
	Name string
	// Text is the name as written.
	Text string
}

// form is an ending that makes a name of a kind.
type form struct {
	suffix string
	runes  []rune // of suffix
	kind   TargetKind
	// notBefore are words that, following the ending, show it is not a name's
	// ending: 市场监管 is a bureau, 工程款 money, 中学生 a pupil.
	notBefore []string
}

// forms are the endings, longest first so that 股份有限公司 wins over 有限公司.
var forms = func() []form {
	fs := []form{
		{suffix: "股份有限公司", kind: TargetOrganization},
		{suffix: "有限责任公司", kind: TargetOrganization},
		{suffix: "有限公司", kind: TargetOrganization},
		{suffix: "合作社", kind: TargetOrganization, notBefore: []string{"社员"}},
		{suffix: "学校", kind: TargetSchool},
		{suffix: "小学", kind: TargetSchool, notBefore: []string{"生", "部"}},
		{suffix: "中学", kind: TargetSchool, notBefore: []string{"生", "部"}},
		{suffix: "幼儿园", kind: TargetSchool},
		{suffix: "学院", kind: TargetSchool, notBefore: []string{"派"}},
		{suffix: "大学", kind: TargetSchool, notBefore: []string{"生"}},
		{suffix: "卫生院", kind: TargetHospital},
		{suffix: "医院", kind: TargetHospital},
		{suffix: "小区", kind: TargetEstate},
		{suffix: "花园", kind: TargetEstate, notBefore: []string{"式"}},
		{suffix: "家园", kind: TargetEstate},
		{suffix: "山庄", kind: TargetEstate},
		{suffix: "公寓", kind: TargetEstate},
		{suffix: "大厦", kind: TargetEstate},
		{suffix: "苑", kind: TargetEstate},
		{suffix: "市场", kind: TargetMarket, notBefore: []string{"监管", "管理", "监督", "化", "经济", "主体", "价", "行为", "秩序", "准入", "营销", "调节", "需求", "份额", "部"}},
		{suffix: "项目", kind: TargetProject, notBefore: []string{"款"}},
		{suffix: "工程", kind: TargetProject, notBefore: []string{"款", "师", "队", "车", "机械", "质量", "量", "造价", "监理", "部", "建设", "项目", "有限", "股份", "技术"}},
	}
	return fs
}()

// genericTails are words that end many names of a kind and tell none apart: a
// name is taken only if something of its own is left when they are cut off its
// end (东海建设工程有限公司 keeps 东海; 物业管理有限公司 keeps nothing).
var genericTails = map[TargetKind][]string{
	TargetOrganization: strings.Fields(`有限 建设工程 工程 建设 建筑 建材 装饰 装修 物业管理 物业服务 物业 管理 服务 房地产开发
		房地产 置业 开发 投资 实业 贸易 商贸 工贸 科技 机电 鞋业 水泵 健身服务 健身 汽摩配件 配件 汽摩 水产 劳务派遣 劳务 派遣
		人力资源 电子商务 餐饮 文化传媒 传媒 文化 教育 咨询 信息 技术 网络 农业 生物 医药 环保 环境 能源 电力 供电 供水 自来水 燃气
		物流 运输 客运 公交 出租车 保安 家政 酒店 旅游 广告 印刷 包装 制造 制品 机械 设备 电器 电气 五金 塑料 化工 纺织 服装
		食品 集团 控股 股份 专业 农民专业 农民 经济 股份经济 合作 发展 中国 责任 电信 移动 联通 银行 保险 分 子`),
	TargetSchool: strings.Fields(`实验 中心 公办 民办 私立 附属 职业 技术 培训 完全 九年一贯制 寄宿制 寄宿 特殊教育 小 中 初级 高级 初 高 外国语
		市直 区直 县直 省直 市属 区属 县属 区办 市办 县办 配套 小区 城镇 农村 乡村 社区 普惠性 普惠 公立 周边 附近 义务教育 区管 市管 县管
		教育
		第一 第二 第三 第四 第五 双语 国际 艺术 体育 该 本 这 那 学校`),
	TargetHospital: strings.Fields(`人民 中医 中西医结合 妇幼保健 妇幼 第一 第二 第三 中心 社区 乡镇 民营 私立 口腔 眼科 专科 综合 附属 精神病
		周边 附近 大型 三甲 二甲 定点 公立
		精神 儿童 肿瘤 骨科 康复 中 西 公立 卫生`),
	TargetEstate: strings.Fields(`安置 拆迁安置 拆迁 回迁 商品房 经济适用房 经适房 公租房 廉租房 保障房 人才 职工 教师 住宅 新建 老旧 老 新
		生活 养老 高层 多层 别墅 周边 附近 城镇 农村 城市 现代化 大型 高端 普通
		一期 二期 三期 四期 五期 期 花园 高档 封闭式 开放式 农民 居民 学生 青年 单身 员工 长租`),
	TargetMarket: strings.Fields(`菜 农贸 批发 水果 海鲜 蔬菜 农产品 综合 二手车 二手 人才 劳务 家具 建材 小商品 夜 早 集贸 农 跳蚤 花鸟 专业
		房地产 劳动力 资本 金融 证券 期货 股票 房产 租赁`),
	TargetProject: strings.Fields(`建设 改造 提升 提质 改扩建 扩建 新建 拆迁 安置 民生 形象 重点 水利 道路 绿化 亮化 美化 维修 修缮 基础设施
		人防 餐饮 服务 商品房 限价 定向 地面 卫生间 装修 防水 消防 经营 收费 合作 建筑 土建 装饰 绿地 停车场 管道
		配套 施工 开发 整治 综合整治 房地产 棚改 棚户区 旧城 城中村 污水 管网 雨污分流 自来水 供水 天然气 燃气 电网 防洪 提标
		工程 政府 政绩 面子 豆腐渣 扶贫 招商 引资 投资 融资 试点 示范 该 本 这个 此 个 惠民 市政 公益 安居 保障 住房 小区
		智慧 亮点 环境 水 电 路 桥 污染 治理 拆除 土地 征地 农田 高标准 标准化`),
}

// genericHeads are words that, starting what stands before an ending, point
// rather than name: 该小区, 我们小区, 附近的学校 name no one.
var genericHeads = strings.Fields(`该 本 此 这个 那个 这家 那家 这些 那些 这项 这 那 某 各 每 整个 我们 我 你们 他们 咱们 我家 附近 周边 旁边 对面
	隔壁 所在 一个 一家 多个 多家 所有 全体 几个 一些 两个 三个 其他 其它 其余 同一 当地 本地 全市 全县 全区 全省 全镇 全村 周围`)

// stopWords end the words before a name: a name starts after the last of them
// (本人在温岭市东海建设工程有限公司务工 → 温岭市东海建设工程有限公司).
var stopWords = strings.Fields(`反映 投诉 举报 咨询 建议 希望 要求 关于 位于 购买 入住 居住 就读 就诊 请问 请求 我们 本人 他们
	你们 大家 业主 家长 村民 居民 市民 工人 员工 孩子 小孩 小朋友 老人 导致 造成 以及 还有 通过 经过 针对 对于 由于 因为 如果 但是
	并且 而且 或者 已经 没有 不是 就是 目前 现在 今天 昨天 去年 今年 明年 多次 一直 曾经 受理 施工方 起诉 状告 如何 怎么 怎样 什么
	哪个 哪些 哪里 是否 能否 可否 可以 应该 需要 开展 全面 决定 根据 按照 规定 影响 进出 门口 左侧 右侧 前面 后面 里面 任何 办成 变成
	成为 改为 作为 属于 包括 其中 只有 所有 来来往往 要 严重 甚至 必须 保证 大量 其次 安排 购置 早已 听闻 关注 切实 紧挨 不惜
	依法 抵制 调整 以上 用于 享受 计划 改变 准备 试问 随着 另外 范围 阶段 下放 公开 发现 看到 听说 知道 认为 表示 联系 协调 处理
	解决 督促 监管 查处 整治 取缔 拆除 违规 违法 非法 私自 擅自 强行 强制 突然 长期 经常 频繁 每天 每晚 晚上 白天 凌晨 半夜
	直接 占用 破坏 有
	的 在 是 了 与 及 对 被 把 给 从 到 住 买 让 请 称 说 跟 它 他 她 你 您 我 吗 呢 吧 啊 呀 哦 么 为 去 会 而 所 将 且 或 等 至 变 入 出`)

// brackets folds full-width brackets in names: （温岭） → (温岭).
var brackets = strings.NewReplacer("（", "(", "）", ")")

// maxNameRunes bounds how far before its ending a name is read.
const maxNameRunes = 20

// FindTargets returns the organizations, schools, hospitals, estates, markets and
// projects a text names, each once, in the order they appear. Endings that follow
// pointing or generic words only (该小区, 我们小区, 物业管理有限公司, 农贸市场, 拆迁项目)
// are not taken.
func FindTargets(text string) []Target {
	rs := []rune(width.Fold.String(text))
	var out []Target
	seen := map[string]bool{}
	start := 0 // a name does not reach back into the one before it
	for end := 1; end <= len(rs); end++ {
		f := formEnding(rs, end)
		if f == nil {
			continue
		}
		// A name that goes on into a longer one is part of it: 东海建设工程有限公司,
		// 锦绣花园项目.
		if continuesIntoName(rs, end) {
			continue
		}
		t, ok := nameBefore(rs, start, end, f)
		if !ok {
			continue
		}
		start = end
		if !seen[string(t.Kind)+t.Name] {
			seen[string(t.Kind)+t.Name] = true
			out = append(out, t)
		}
	}
	return out
}

// formsByLast are the forms by the last character of their ending.
var formsByLast = func() map[rune][]*form {
	m := map[rune][]*form{}
	for i := range forms {
		f := &forms[i]
		f.runes = []rune(f.suffix)
		m[f.runes[len(f.runes)-1]] = append(m[f.runes[len(f.runes)-1]], f)
	}
	return m
}()

// formEnding returns the longest form ending at rs[end-1], if it is one there.
func formEnding(rs []rune, end int) *form {
	for _, f := range formsByLast[rs[end-1]] {
		n := len(f.runes)
		if end < n || !slices.Equal(rs[end-n:end], f.runes) {
			continue
		}
		for _, w := range f.notBefore {
			if hasRunePrefix(rs[end:], w) {
				return nil
			}
		}
		return f
	}
	return nil
}

// hasRunePrefix reports whether rs begins with w.
func hasRunePrefix(rs []rune, w string) bool {
	i := 0
	for _, r := range w {
		if i >= len(rs) || rs[i] != r {
			return false
		}
		i++
	}
	return true
}

// continuesIntoName reports whether a name ending at end goes on into a longer
// one: another ending follows at once, or after a phase (锦绣花园项目,
// 锦绣花园小区, 东湖名苑二期项目).
func continuesIntoName(rs []rune, end int) bool {
	for next := end + 1; next <= min(len(rs), end+8); next++ {
		if !nameRune(rs[next-1]) {
			return false
		}
		f := formEnding(rs, next)
		if f == nil || next-len(f.runes) < end {
			continue // none, or one that overlaps this ending (花园 of 锦绣花园园)
		}
		between := string(rs[end : next-len(f.runes)])
		return between == "" || phase.MatchString(between)
	}
	return false
}

// phase is a development's phase or block between its name and another ending.
var phase = regexp.MustCompile(`^(?:[0-9一二三四五六七八九十]+期|[A-Za-z0-9]+区)$`)

// conjunctions join two names: 翠竹苑和锦绣花园.
const conjunctions = "和与及或跟同、"

// nameRune says whether r can be part of a name.
func nameRune(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.IsLetter(r) || unicode.IsDigit(r) || r == '(' || r == ')' || r == '（' || r == '）'
}

// nameBefore reads the name that ends with the form at end, no further back
// than from.
func nameBefore(rs []rune, from, end int, f *form) (Target, bool) {
	suffixLen := utf8.RuneCountInString(f.suffix)
	begin := end - suffixLen
	for begin > from && end-begin < maxNameRunes+suffixLen && nameRune(rs[begin-1]) {
		begin--
	}
	if begin == from {
		for begin < end-suffixLen && strings.ContainsRune(conjunctions, rs[begin]) {
			begin++
		}
	}
	head := string(rs[begin : end-suffixLen])
	// The name starts after the last stop word before its ending.
	head = afterLastStopWord(head)
	written := head + f.suffix
	for trimmed := true; trimmed; {
		trimmed = false
		for _, g := range genericHeads {
			if strings.HasPrefix(head, g) {
				head, trimmed = strings.TrimPrefix(head, g), true
			}
		}
	}
	head, ok := withoutDivisions(head, f.kind)
	if !ok || utf8.RuneCountInString(f.suffix) == 1 && cutDivision(head+"x") == "x" {
		return Target{}, false // a one-character ending needs a name of its own: A1区苑 is none
	}
	name := brackets.Replace(head + f.suffix)
	return Target{Kind: f.kind, Name: name, Text: written}, true
}

// countedNumber is a number with its counter (2019年, 199号, 两三所): a name
// starts after it.
var countedNumber = regexp.MustCompile(`[0-9一二三四五六七八九十两几百千]+(?:年|月|日|号|栋|幢|楼|层|室|元|万|个|所|家|岁|名|户|次|条|辆|间|套|班|倍|米|公里)`)

// afterLastStopWord returns what follows the last stop word, pointing word
// (该, 这些, 各…), counted number or unclosed bracket in s.
func afterLastStopWord(s string) string {
	cut := 0
	if locs := countedNumber.FindAllStringIndex(s, -1); len(locs) > 0 {
		cut = locs[len(locs)-1][1]
	}
	if i := strings.LastIndexAny(s, "(（"); i >= 0 && !strings.ContainsAny(s[i:], ")）") {
		_, n := utf8.DecodeRuneInString(s[i:])
		cut = max(cut, i+n)
	}
	// From the end back: the first position where a stop word ends.
	for end := len(s); end > cut; {
		r, n := utf8.DecodeLastRuneInString(s[:end])
		for _, w := range stopsByLast[r] {
			if strings.HasSuffix(s[:end], w) {
				return s[end:]
			}
		}
		end -= n
	}
	return s[cut:]
}

// stopsByLast are the stop and pointing words by their last character.
var stopsByLast = func() map[rune][]string {
	m := map[rune][]string{}
	for _, w := range append(slices.Clone(stopWords), genericHeads...) {
		r, _ := utf8.DecodeLastRuneInString(w)
		m[r] = append(m[r], w)
	}
	return m
}()

// withoutDivisions cuts the divisions (province, city, district, town) off the
// start of what stands before a name's ending, as long as something of the
// name's own is left; it reports false when nothing is.
func withoutDivisions(head string, kind TargetKind) (string, bool) {
	if !distinctive(head, kind) {
		return "", false
	}
	for {
		cut := cutDivision(head)
		if cut == head || !distinctive(cut, kind) {
			return head, true
		}
		head = cut
	}
}

// cutDivision cuts one leading division name (province, city, district or
// county, town or street) off s, if s starts with one and goes on after it.
func cutDivision(s string) string {
	for _, d := range divisions[:4] {
		if part := d.leading(s); part != "" && len(part) < len(s) {
			return s[len(part):]
		}
	}
	return s
}

// distinctive reports whether what stands before a name's ending says which one
// it is: two letters or more once the kind's generic words are cut off its end.
func distinctive(head string, kind TargetKind) bool {
	for trimmed := true; trimmed; {
		trimmed = false
		for _, g := range genericTails[kind] {
			if strings.HasSuffix(head, g) {
				head, trimmed = strings.TrimSuffix(head, g), true
			}
		}
		for _, g := range genericHeads {
			if strings.HasPrefix(head, g) && head != g {
				head, trimmed = strings.TrimPrefix(head, g), true
			}
		}
	}
	letters := 0
	for _, r := range head {
		if unicode.Is(unicode.Han, r) || unicode.IsLetter(r) {
			letters++
		}
	}
	for _, g := range genericHeads {
		if head == g {
			return false
		}
	}
	return letters >= 2
}
