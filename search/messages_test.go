package search_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/longbridgeapp/opencc"

	"fengqiao"
)

// citizenMessage is a made-up message to the county's hotline.
type citizenMessage struct{ Title, Content string }

// messageTemplates are citizen messages written for these tests, {slots} filled
// from messageSlots.
var messageTemplates = []citizenMessage{
	{"{estate}夜间施工噪音扰民", "我是{estate}{building}的住户，最近一个月{site}每天晚上{hour}点以后还在施工，打桩机的声音非常大，老人小孩都睡不好觉。多次向物业反映没有结果，希望有关部门尽快了解情况并依法处理。"},
	{"{road}路灯不亮", "{road}从{landmark}到{landmark2}这一段的路灯已经坏了{n}天，晚上黑漆漆的，电动车和行人都很危险，请城管部门尽快维修。"},
	{"反映{company}拖欠工资", "本人于{year}年{month}月到{company}在{town}的工地做木工，工资一共{money}元至今未付。包工头电话打不通，老板说工程款没到位。请劳动监察部门帮忙讨回血汗钱！"},
	{"{estate}垃圾清运不及时", "小区{building}楼下的垃圾桶已经满了好几天，天气热，臭味很大，苍蝇很多。物业说是环卫公司的问题，环卫公司说是物业的问题，互相推诿。"},
	{"关于{town}垃圾焚烧厂的咨询", "听说{town}要建垃圾焚烧发电厂，选址离我们村只有{n}公里，村民很担心污染问题。请问项目环评是否已经公示？在哪里可以查到？"},
	{"{school}乱收费", "{school}今年开学要求每个学生交{money}元的“兴趣班费用”，说是自愿，但是不交的孩子会被另外安排座位。家长们很有意见，请教育局调查。"},
	{"{road}占道经营", "{market}门口每天早上{hour}点到{hour2}点有很多流动摊贩占道卖菜，车辆无法通行，经常堵车，还有油烟污染。"},
	{"小区电梯经常故障", "{estate}{building}的电梯这个月已经坏了{n}次，上周还有老人被困在里面半个多小时。物业维修基金的使用情况也不公开，请住建部门督促整改。"},
	{"预付卡健身房跑路", "{gym}突然关门，老板联系不上。我在{year}年办了年卡，花了{money}元，还剩{n}个月没用。和我一样的会员有一百多人，请市场监管局帮忙处理。"},
	{"{estate}车位只售不租", "开发商把地下车库的车位全部出售，每个要{money}元，不买就不让停，业主没法接受。请问开发商这样做符合规定吗？"},
	{"邻居饲养犬只扰民", "楼上邻居养了两条大狗，白天晚上都在叫，还在楼道里随地大小便，头发和狗毛到处都是。沟通多次无果，希望社区出面协调。"},
	{"农村道路破损", "{village}通往{town}的水泥路有一段塌陷了，大概{n}米长，下雨天积水很深，已经有人摔倒受伤。"},
	{"医保报销咨询", "我母亲在{hospital}住院{n}天，花了{money}元，请问异地就医怎么办理备案？报销比例是多少？"},
	{"{estate}自来水发黄", "这几天打开水龙头流出来的水是黄色的，有一股铁锈味，烧开后杯底有沉淀。请自来水公司检测一下水质，给居民一个说法。"},
	{"网约车乱收费", "{month}月{day}日晚上从{landmark}打车到{estate}，平时{n}元的路程这次收了{money}元，司机绕路还态度恶劣。车牌号是浙J{plate}。"},
	{"建议增加公交班次", "{road}到{hospital}的{bus}路公交车班次太少，早高峰要等四十多分钟，建议增加班次或者开通微循环公交。"},
	{"烧烤店油烟扰民", "{road}{n}号的一家烧烤店，油烟直接排到居民楼，晚上营业到凌晨两三点，噪音也很大，窗户都不敢开。"},
	{"违章搭建影响采光", "{village}有村民在自家宅基地上违章加盖了三层楼，影响了我家的采光和通风。已经向村委会反映，到现在也没有处理。"},
	{"物业费上涨不合理", "{estate}物业公司通知从下个月开始物业费由每平方米{fee}元涨到{fee2}元，没有召开业主大会，也没有公示成本。"},
	{"共享单车乱停放", "{landmark}地铁站出口的共享单车堆成一片，盲道都被占了，视障人士根本没法走。在APP上投诉了三次都没有回复。"},
	{"咨询落户政策", "我是外地户籍，在{town}工作满{n}年，有稳定住所，请问可以办理落户吗？需要准备哪些材料？"},
	{"渣土车沿路抛洒", "每天夜里都有渣土车从{road}经过，沿路抛洒泥土，白天尘土飞扬，下雨后路面全是泥浆，洗车都来不及。"},
	{"{school}门口交通安全", "{school}门口上下学时间家长车辆乱停，学生过马路很危险，建议设置护学岗和减速带。"},
	{"河道发黑发臭", "{village}旁边的小河最近颜色发黑，还有死鱼浮在水面上，怀疑上游有工厂偷排污水，请环保部门来取样检测。"},
	{"征收补偿标准不一", "{village}的房屋征收补偿标准和隔壁村不一样，同样的面积我们少了{money}元，希望政府公开补偿方案。"},
	{"小区WiFi信号差", "{estate}{building}一直没有光纤入户，运营商说要等小区统一改造，现在家里上网只能用手机热点，孩子上网课很不方便。"},
}

var messageSlots = map[string][]string{
	"estate":    {"锦绣花园", "阳光新城", "滨江苑", "金桂小区", "东湖名邸", "翠竹苑", "香樟湾", "时代广场公寓"},
	"building":  {"3幢2单元", "12栋", "5号楼1203室", "B区7幢", "18幢401"},
	"site":      {"隔壁的工地", "对面的商业综合体工地", "地铁施工围挡里", "新建的学校工地"},
	"road":      {"人民路", "新华路", "东海大道", "泽国大道", "横湖北路", "太平南路", "万昌中路"},
	"landmark":  {"火车站", "人民医院", "银泰城", "体育中心", "汽车南站"},
	"landmark2": {"农贸市场", "第三中学", "派出所", "文化广场"},
	"town":      {"泽国镇", "大溪镇", "城东街道", "松门镇", "箬横镇", "新河镇", "石塘镇"},
	"village":   {"下洋村", "塘岙村", "前王村", "上林村", "外山头村"},
	"company":   {"东海建设工程有限公司", "恒达建材有限公司", "华顺劳务派遣有限公司", "宏远装饰工程有限公司"},
	"school":    {"城西小学", "实验中学", "东方幼儿园", "育才小学"},
	"hospital":  {"第一人民医院", "中医院", "妇幼保健院"},
	"market":    {"东门菜市场", "南门农贸市场", "城北市场"},
	"gym":       {"力美健身房", "动感游泳健身会所", "星辰瑜伽馆"},
	"year":      {"2022", "2023", "2024"},
	"month":     {"1", "3", "5", "8", "11", "12"},
	"day":       {"2", "9", "15", "23", "30"},
	"hour":      {"10", "11", "6"},
	"hour2":     {"9", "8"},
	"n":         {"3", "5", "7", "10", "20", "两"},
	"money":     {"3800", "12000", "26500", "500", "1,980"},
	"fee":       {"1.2", "1.5"},
	"fee2":      {"2.0", "2.6"},
	"plate":     {"A3B21", "D8K09", "F1256"},
	"bus":       {"105", "K3", "201"},
}

var messageEndings = []string{"", "谢谢！", "盼复。", "请尽快处理，谢谢。", "急！！", "望领导重视。"}

// s2t writes generated messages in traditional characters, as some citizens type.
var s2t = func() *opencc.OpenCC {
	cc, err := opencc.New("s2t")
	if err != nil {
		panic(err)
	}
	return cc
}()

// citizenMessages writes n messages the way citizens type them: some in
// traditional characters, some with full-width letters and digits, some broken
// by spaces or lines.
func citizenMessages(rng *rand.Rand, n int) []citizenMessage {
	out := make([]citizenMessage, n)
	for i := range out {
		m := messageTemplates[rng.IntN(len(messageTemplates))]
		fill := func(s string) string {
			for name, values := range messageSlots {
				s = strings.ReplaceAll(s, "{"+name+"}", values[rng.IntN(len(values))])
			}
			return s
		}
		m.Title, m.Content = fill(m.Title), fill(m.Content)+messageEndings[rng.IntN(len(messageEndings))]
		switch p := rng.Float64(); {
		case p < 0.2:
			m.Title, _ = s2t.Convert(m.Title)
			m.Content, _ = s2t.Convert(m.Content)
		case p < 0.35:
			m.Title, m.Content = fullWidth(m.Title), fullWidth(m.Content)
		case p < 0.5:
			sep := []string{" ", "\n", "　", "  "}[rng.IntN(4)]
			m.Content = strings.ReplaceAll(m.Content, "。", "。"+sep)
		}
		out[i] = m
	}
	return out
}

// fullWidth writes ASCII letters, digits and punctuation in their full-width forms.
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if '!' <= r && r <= '~' {
			return r - '!' + '！'
		}
		return r
	}, s)
}

// messageEvent makes the i-th message a hotline event reported at.
func messageEvent(i int, m citizenMessage, at time.Time, org string) *fengqiao.Event {
	sid := fmt.Sprintf("GD%08d", i)
	return &fengqiao.Event{ID: fengqiao.EventID(fengqiao.SourceHotline12345, sid), Source: fengqiao.SourceHotline12345,
		SourceID: sid, Kind: fengqiao.KindComplaint, Title: m.Title, Content: m.Content, Category: "城乡建设",
		ReportedAt: at, OccurredAt: at, UpdatedAt: at, Status: fengqiao.StatusResolved, OrgCode: org}
}
