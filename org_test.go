package fengqiao_test

import (
	"strings"
	"testing"

	"fengqiao"
)

func TestWenlingTree(t *testing.T) {
	t.Parallel()
	tree := fengqiao.Wenling()
	root := tree.Root()
	if root.Code != "331081" || root.Name != "温岭市" || root.Level != fengqiao.LevelCounty || root.Parent() != nil {
		t.Fatalf("root = %+v", root)
	}
	towns, villages, grids := tree.Units(fengqiao.LevelTown), tree.Units(fengqiao.LevelVillage), tree.Units(fengqiao.LevelGrid)
	if len(towns) != 17 || len(villages) != 661 || len(grids) != 661*fengqiao.GridsPerVillage {
		t.Fatalf("%d towns, %d villages, %d grids", len(towns), len(villages), len(grids))
	}
	if tree.Len() != 1+17+661+661*fengqiao.GridsPerVillage {
		t.Fatalf("Len = %d", tree.Len())
	}
	for _, v := range villages {
		if strings.HasSuffix(v.Name, "委会") {
			t.Errorf("village %s keeps its statistical suffix", v.Name)
		}
		if v.Parent().Level != fengqiao.LevelTown || len(v.Children()) != fengqiao.GridsPerVillage {
			t.Errorf("village %s: parent %s, %d grids", v.Code, v.Parent().Code, len(v.Children()))
		}
	}
	g := tree.Unit("331081100010002")
	if g == nil || g.Level != fengqiao.LevelGrid || g.FullName() != "温岭市泽国镇楼下社区第2网格" {
		t.Fatalf("grid = %+v (%s)", g, g.FullName())
	}
	if want := []string{"331081", "331081100", "331081100010", "331081100010002"}; strings.Join(g.Path, ",") != strings.Join(want, ",") {
		t.Fatalf("path = %v, want %v", g.Path, want)
	}
	if !tree.Unit("331081100").Contains(g.Code) || tree.Unit("331081101").Contains(g.Code) {
		t.Fatal("Contains disagrees with the tree")
	}
}

func TestReadOrgTreeRejectsBrokenFiles(t *testing.T) {
	t.Parallel()
	for name, csv := range map[string]string{
		"no county":      "code,name,level,parent_code\n331081001,太平街道,town,331081\n",
		"orphan":         "code,name,level,parent_code\n331081,温岭市,county,3310\n331081001001,某村委会,village,331081001\n",
		"unknown level":  "code,name,level,parent_code\n331081,温岭市,province,\n",
		"missing fields": "code,name,level,parent_code\n331081,温岭市\n",
	} {
		if _, err := fengqiao.ReadOrgTree(strings.NewReader(csv), 1); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestLocate(t *testing.T) {
	t.Parallel()
	tree := fengqiao.Wenling()
	for addr, want := range map[string]string{
		"温岭市泽国镇楼下社区中心路12号": "331081100010",
		"泽国镇某某路8号":         "331081100",
		"浙江省台州市某区":         "",
	} {
		got := tree.Locate(addr)
		if want == "" && got != nil || want != "" && (got == nil || got.Code != want) {
			t.Errorf("Locate(%s) = %v, want %s", addr, got, want)
		}
	}
}
