package fengqiao

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"sort"
	"strings"
)

// OrgLevel is a level of the county governance tree (县—镇街—村社—网格).
type OrgLevel string

const (
	LevelCounty  OrgLevel = "COUNTY"
	LevelTown    OrgLevel = "TOWN"
	LevelVillage OrgLevel = "VILLAGE"
	LevelGrid    OrgLevel = "GRID"
)

// OrgUnit is one node of the governance tree. Codes are statistical division codes
// (6 digits county, 9 town, 12 village); a grid is its village code plus three digits.
type OrgUnit struct {
	Code       string
	Name       string
	Level      OrgLevel
	ParentCode string
	// Path lists the codes from the county down to this unit, inclusive.
	Path     []string
	children []*OrgUnit
	parent   *OrgUnit
}

// Children returns the unit's direct children in code order.
func (u *OrgUnit) Children() []*OrgUnit { return u.children }

// Parent returns the unit's parent, or nil for the root.
func (u *OrgUnit) Parent() *OrgUnit { return u.parent }

// FullName joins the names from the county down, e.g. "温岭市泽国镇东门村".
func (u *OrgUnit) FullName() string {
	var parts []string
	for n := u; n != nil; n = n.parent {
		parts = append(parts, n.Name)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
	}
	return b.String()
}

// Contains reports whether code is this unit or one of its descendants.
func (u *OrgUnit) Contains(code string) bool { return strings.HasPrefix(code, u.Code) }

// OrgTree is the governance tree of one county, read-only after it is built.
type OrgTree struct {
	root   *OrgUnit
	byCode map[string]*OrgUnit
}

// Root returns the county unit.
func (t *OrgTree) Root() *OrgUnit { return t.root }

// Unit returns the unit with the given code, or nil.
func (t *OrgTree) Unit(code string) *OrgUnit { return t.byCode[code] }

// Locate returns the most specific unit an address names: the village whose name
// it contains within the town it names, else that town, else nil.
func (t *OrgTree) Locate(address string) *OrgUnit {
	var town *OrgUnit
	for _, u := range t.root.children {
		if strings.Contains(address, u.Name) {
			town = u
			break
		}
	}
	if town == nil {
		return nil
	}
	best := town
	for _, v := range town.children {
		if strings.Contains(address, v.Name) && (best == town || len(v.Name) > len(best.Name)) {
			best = v
		}
	}
	return best
}

// Len returns the number of units in the tree.
func (t *OrgTree) Len() int { return len(t.byCode) }

// Units returns all units at the given level, in code order.
func (t *OrgTree) Units(level OrgLevel) []*OrgUnit {
	var out []*OrgUnit
	for _, u := range t.byCode {
		if u.Level == level {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

//go:embed data/wenling_divisions.csv
var wenlingDivisions string

// GridsPerVillage is how many grids the standard Wenling tree has under each village.
const GridsPerVillage = 3

// Wenling returns the governance tree of Wenling (331081): the real county, town and
// village division codes, with GridsPerVillage grids under each village.
func Wenling() *OrgTree {
	t, err := ReadOrgTree(strings.NewReader(wenlingDivisions), GridsPerVillage)
	if err != nil {
		panic(err) // the embedded file is part of the binary; a failure is a build bug
	}
	return t
}

// ReadOrgTree reads a division CSV (code,name,level,parent_code with levels county,
// town, village) and adds grids grids under each village, coded village code + "001"….
func ReadOrgTree(r io.Reader, grids int) (*OrgTree, error) {
	t := &OrgTree{byCode: map[string]*OrgUnit{}}
	levels := map[string]OrgLevel{"county": LevelCounty, "town": LevelTown, "village": LevelVillage}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Split(strings.TrimSpace(sc.Text()), ",")
		if line == 1 || len(f) == 1 && f[0] == "" {
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("division csv line %d: want 4 fields, got %d", line, len(f))
		}
		level, ok := levels[f[2]]
		if !ok {
			return nil, fmt.Errorf("division csv line %d: unknown level %q", line, f[2])
		}
		u := &OrgUnit{Code: f[0], Name: shortName(f[1]), Level: level, ParentCode: f[3]}
		t.byCode[u.Code] = u
		if level == LevelVillage {
			for g := 1; g <= grids; g++ {
				code := fmt.Sprintf("%s%03d", u.Code, g)
				t.byCode[code] = &OrgUnit{Code: code, Name: fmt.Sprintf("第%d网格", g), Level: LevelGrid, ParentCode: u.Code}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, u := range t.byCode {
		if u.Level == LevelCounty {
			t.root = u
			u.ParentCode = ""
			continue
		}
		p := t.byCode[u.ParentCode]
		if p == nil {
			return nil, fmt.Errorf("division %s: parent %s not found", u.Code, u.ParentCode)
		}
		u.parent = p
		p.children = append(p.children, u)
	}
	if t.root == nil {
		return nil, fmt.Errorf("division csv: no county row")
	}
	for _, u := range t.byCode {
		sort.Slice(u.children, func(i, j int) bool { return u.children[i].Code < u.children[j].Code })
		for n := u; n != nil; n = n.parent {
			u.Path = append([]string{n.Code}, u.Path...)
		}
	}
	return t, nil
}

// shortName turns statistical names into the ones people use: "东门村委会" → "东门村",
// "西园居委会" → "西园社区".
func shortName(name string) string {
	switch {
	case strings.HasSuffix(name, "村委会"):
		return strings.TrimSuffix(name, "委会")
	case strings.HasSuffix(name, "居委会"):
		return strings.TrimSuffix(name, "居委会") + "社区"
	}
	return name
}
