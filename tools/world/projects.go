package world

import "fmt"

// Project is a key project (重点项目) as the project registry serves it.
type Project struct {
	XMBM  string       `json:"xmbm"` // 项目编码
	XMMC  string       `json:"xmmc"` // 项目名称
	DLBM  string       `json:"dlbm"` // 大类编码
	DLMC  string       `json:"dlmc"` // 大类名称
	XLBM  string       `json:"xlbm"` // 小类编码
	XLMC  string       `json:"xlmc"` // 小类名称
	SZQH  string       `json:"szqh"` // 所在区划（村社）
	XMDZ  string       `json:"xmdz"` // 项目地址
	JD    int          `json:"jd"`   // 进度（%）
	YZDW  ProjectOwner `json:"yzdw"` // 业主单位
	GXSJ  int64        `json:"gxsj"` // 更新时间（Unix 秒）
	Class int          `json:"-"`    // index into ProjectClasses

	Malformed string `json:"-"`
}

// ProjectOwner is the company that owns a project.
type ProjectOwner struct {
	MC       string `json:"mc"`
	TYSHXYDM string `json:"tyshxydm"`
}

// ProjectClass is one of the 8 classes of the registry, with its subclasses (25 in all).
type ProjectClass struct {
	Name       string
	Subclasses []string
	Nouns      []string // what projects of the class are called
}

// ProjectClasses is the registry's standard classification, 8大类25小类.
var ProjectClasses = []ProjectClass{
	{"交通", []string{"公路", "桥梁", "港口航道"}, []string{"快速路改建工程", "大桥新建工程", "港区码头工程"}},
	{"能源", []string{"电力", "燃气", "新能源"}, []string{"变电站工程", "燃气管网工程", "光伏发电项目"}},
	{"水利", []string{"防洪排涝", "供水", "水环境治理"}, []string{"排涝闸站工程", "供水管网改造工程", "河道综合整治工程"}},
	{"市政", []string{"道路管网", "城市更新", "园林绿化"}, []string{"道路提升工程", "城中村改造项目", "公园建设工程"}},
	{"产业", []string{"工业厂房", "产业园区", "科技创新", "现代服务业"}, []string{"标准厂房项目", "小微园项目", "科创中心项目", "商贸综合体项目"}},
	{"社会事业", []string{"教育", "医疗卫生", "文化体育"}, []string{"学校新建工程", "医院迁建工程", "体育馆建设工程"}},
	{"住房", []string{"安置房", "保障性住房", "商品住房"}, []string{"安置房工程", "保障性租赁住房项目", "住宅小区项目"}},
	{"生态环保", []string{"污水处理", "固废处置", "生态修复"}, []string{"污水处理厂扩建工程", "固废处置中心项目", "矿山生态修复工程"}},
}

func (g *generator) project(i int) *Project {
	class := g.rnd.IntN(len(ProjectClasses))
	pc := ProjectClasses[class]
	sub := g.rnd.IntN(len(pc.Subclasses))
	v := g.villages[g.rnd.IntN(len(g.villages))]
	owner := g.world.Companies[g.rnd.IntN(len(g.world.Companies))]
	updated := g.at()
	p := &Project{
		XMBM: fmt.Sprintf("XM331081-%02d%02d-%03d", class+1, sub+1, i+1),
		XMMC: fmt.Sprintf("温岭市%s%s%s", v.Parent().Name, v.Name, pc.Nouns[sub]),
		DLBM: fmt.Sprintf("%02d", class+1), DLMC: pc.Name,
		XLBM: fmt.Sprintf("%02d%02d", class+1, sub+1), XLMC: pc.Subclasses[sub],
		SZQH: v.Code, XMDZ: g.address(v), JD: g.rnd.IntN(101),
		YZDW: ProjectOwner{MC: owner.Name, TYSHXYDM: owner.CreditCode},
		GXSJ: updated.Unix(), Class: class,
	}
	if g.chance(g.cfg.MalformedRate) {
		p.JD, p.Malformed = 180, "progress over 100"
	}
	return p
}
