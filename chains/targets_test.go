package chains_test

import (
	"reflect"
	"testing"

	"fengqiao/chains"
)

// Targets are found by the form of their names, wherever they are and whatever
// stands before them; the texts are written for this test.
func TestFindTargetsByForm(t *testing.T) {
	t.Parallel()
	cases := []struct {
		text string
		want []chains.Target
	}{
		{"本人在温岭市东海建设工程有限公司务工，公司拖欠三个月工资。",
			[]chains.Target{{chains.TargetOrganization, "东海建设工程有限公司", "温岭市东海建设工程有限公司"}}},
		{"我们在青禾智造科技有限公司上班，老板跑路了",
			[]chains.Target{{chains.TargetOrganization, "青禾智造科技有限公司", "青禾智造科技有限公司"}}},
		{"B2区银杏小区1-4栋楼下烧烤店油烟扰民",
			[]chains.Target{{chains.TargetEstate, "银杏小区", "B2区银杏小区"}}},
		{"家住福元西路199号万国三期小区，孩子要上幼儿园",
			[]chains.Target{{chains.TargetEstate, "万国三期小区", "万国三期小区"}}},
		{"东湖路菜市场门口摊贩占道经营，市场监管部门不管",
			[]chains.Target{{chains.TargetMarket, "东湖路菜市场", "东湖路菜市场"}}},
		{"泽国镇中心小学门口接送车辆拥堵",
			[]chains.Target{{chains.TargetSchool, "泽国镇中心小学", "泽国镇中心小学"}}},
		{"反映箬横镇卫生院夜间无人值班",
			[]chains.Target{{chains.TargetHospital, "箬横镇卫生院", "箬横镇卫生院"}}},
		{"滨海大道拓宽工程施工噪音大，拖欠工程款",
			[]chains.Target{{chains.TargetProject, "滨海大道拓宽工程", "滨海大道拓宽工程"}}},
		{"翠竹苑和锦绣花园之间的道路坑洼",
			[]chains.Target{{chains.TargetEstate, "翠竹苑", "翠竹苑"}, {chains.TargetEstate, "锦绣花园", "锦绣花园"}}},
		{"温岭市石塘渔业专业合作社拖欠渔民分红",
			[]chains.Target{{chains.TargetOrganization, "石塘渔业专业合作社", "温岭市石塘渔业专业合作社"}}},
		{"ＡＢＣ国际公寓楼道堆放杂物", // full width is folded
			[]chains.Target{{chains.TargetEstate, "ABC国际公寓", "ABC国际公寓"}}},
	}
	for _, tc := range cases {
		if got := chains.FindTargets(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("FindTargets(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
	}
}

// Words that point at something or name a kind of thing name no one.
func TestFindTargetsTakesNoGenericWords(t *testing.T) {
	t.Parallel()
	for _, text := range []string{
		"该小区物业不作为", "我们小区停车难", "这个小区的路灯坏了", "物业公司乱收费", "物业管理有限公司不退押金",
		"附近的学校放学时拥堵", "农贸市场脏乱差", "拆迁项目补偿不到位", "拖欠工程款三年", "市场监管局不作为",
		"中学生晚上在网吧", "这家医院收费太高", "2021年3月份起转为普惠性民办幼儿园", "随便哪一家养老公寓",
		"根据本项目的规划", "两三所中学合并", "人才公寓申请条件",
	} {
		if got := chains.FindTargets(text); len(got) != 0 {
			t.Errorf("FindTargets(%q) = %+v, want none", text, got)
		}
	}
}

func TestParseAddress(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		want  chains.Address
		place string
	}{
		{"浙江省台州市温岭市泽国镇楼下社区锦绣花园3幢1201室",
			chains.Address{Province: "浙江省", City: "台州市", District: "温岭市", Town: "泽国镇", Village: "楼下社区", Estate: "锦绣花园", Building: "3幢", Room: "1201室"},
			"楼下社区锦绣花园"},
		{"温岭市泽国镇楼下社区中心路8号",
			chains.Address{City: "温岭市", Town: "泽国镇", Village: "楼下社区", Road: "中心路", Number: "8号"},
			"楼下社区中心路8号"},
		{"B市B4区银河大道12号银桂小区5栋2单元301室",
			chains.Address{City: "B市", District: "B4区", Road: "银河大道", Number: "12号", Estate: "银桂小区", Building: "5栋", Unit: "2单元", Room: "301室"},
			"B4区银桂小区"},
		{"湖南省长沙市岳麓区望城坡街道枫林三路１２８号",
			chains.Address{Province: "湖南省", City: "长沙市", District: "岳麓区", Town: "望城坡街道", Road: "枫林三路", Number: "128号"},
			"望城坡街道枫林三路128号"},
		{"温岭市泽国镇楼下社区", chains.Address{City: "温岭市", Town: "泽国镇", Village: "楼下社区"}, ""},
		{"东湖路菜市场", chains.Address{Road: "东湖路", Estate: "菜市场"}, "菜市场"},
	}
	for _, tc := range cases {
		got := chains.ParseAddress(tc.in)
		if got != tc.want {
			t.Errorf("ParseAddress(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if p := got.Place(); p != tc.place {
			t.Errorf("ParseAddress(%q).Place() = %q, want %q", tc.in, p, tc.place)
		}
	}
}
