package fengqiao

import (
	"strings"
	"testing"
)

// FuzzLocate places any address in the Wenling tree: Locate never panics and
// returns nil only when the address names no town; else a town or village of the
// tree whose name the address contains, within a town it names, and the most
// specific: a village when one of the town is named, the longest so named; an
// address naming one town only is placed in that town.
func FuzzLocate(f *testing.F) {
	for _, seed := range []string{
		"浙江省台州市温岭市泽国镇前岸村后街18号",
		"温岭市太平街道锦园社区北门",
		"城东街道", "箬横镇某工业区3号厂房", "东部新区金塘北路", "松门镇松建村",
		"石桥头镇与坞根镇交界处", "新河镇长屿硐天附近", "温峤镇温峤镇温峤镇",
		"前岸村", "泽国", "泽国镇泽国镇前岸", "台州市椒江区", "", " ", "\xff\xfe泽国镇",
	} {
		f.Add(seed)
	}
	tree := Wenling()
	f.Fuzz(func(t *testing.T, address string) {
		u := tree.Locate(address)
		named := func(u *OrgUnit) bool { return strings.Contains(address, u.Name) }
		var town *OrgUnit
		towns := 0
		for _, tn := range tree.root.children {
			if named(tn) {
				if towns++; town == nil {
					town = tn
				}
			}
		}
		switch {
		case u == nil && town != nil:
			t.Fatalf("%q names %s and is placed nowhere", address, town.Name)
		case u == nil:
			return
		case tree.Unit(u.Code) != u:
			t.Fatalf("%q placed in %s, not a unit of the tree", address, u.Code)
		case u.Level != LevelTown && u.Level != LevelVillage:
			t.Fatalf("%q placed in %s, a %s", address, u.Code, u.Level)
		case !named(u):
			t.Fatalf("%q placed in %s (%s), which it does not name", address, u.Code, u.Name)
		case u.Level == LevelVillage && !named(u.parent):
			t.Fatalf("%q placed in %s%s without naming the town", address, u.parent.Name, u.Name)
		}
		in := u
		if u.Level == LevelVillage {
			in = u.parent
		}
		if towns == 1 && in != town {
			t.Fatalf("%q names only %s and is placed in %s", address, town.Name, in.Name)
		}
		for _, v := range in.children {
			if named(v) && (u == in || len(v.Name) > len(u.Name)) {
				t.Fatalf("%q placed in %s though it names %s%s", address, u.FullName(), in.Name, v.Name)
			}
		}
	})
}
