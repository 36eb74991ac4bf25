package chains

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"fengqiao"
)

// Address is an address cut into its parts, each as written ("" when it does not
// say): 浙江省 台州市 温岭市 泽国镇 楼下社区 中心路 8号 锦绣花园 3幢 1201室.
type Address struct {
	Province string // …省, …自治区
	City     string // …市, …自治州, …地区
	District string // …区, …县, or a county-level …市
	Town     string // …镇, …乡, …街道
	Village  string // …村, …社区
	Road     string // …路, …大道, …街, …巷, …弄
	Number   string // 8号, 8-2号
	Estate   string // the estate, building or place before the unit: 锦绣花园, 银桂小区
	Building string // 3幢, 5栋, 2号楼, A座
	Unit     string // 2单元
	Room     string // 1201室
}

var (
	addrNumber   = regexp.MustCompile(`^\d+(?:[-之]\d+)?号(?:院)?`)
	addrBuilding = regexp.MustCompile(`(?:\d+|[一二三四五六七八九十]+|[A-Za-z])(?:幢|栋|号楼|座)`)
	addrUnit     = regexp.MustCompile(`\d+单元`)
	addrRoom     = regexp.MustCompile(`\d+(?:室|房)`)
)

// ParseAddress cuts an address into its parts, whether or not it lies in the
// hub's org tree. Parts are read in order; a part an address leaves out is "".
func ParseAddress(s string) Address {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' || r == '，' {
			return -1
		}
		return r
	}, width.Fold.String(s))
	var a Address
	for i, part := range []*string{&a.Province, &a.City, &a.District, &a.Town, &a.Village, &a.Road} {
		*part = divisions[i].leading(s)
		s = s[len(*part):]
	}
	if m := addrNumber.FindString(s); m != "" {
		a.Number, s = m, s[len(m):]
	}
	// What stands before the unit is the estate or building; the unit parts follow.
	rest := s
	if loc := addrBuilding.FindStringIndex(rest); loc != nil {
		a.Building, rest = rest[loc[0]:loc[1]], rest[:loc[0]]+"\x00"+rest[loc[1]:]
	}
	if m := addrUnit.FindString(rest); m != "" {
		a.Unit = m
	}
	if m := addrRoom.FindString(rest); m != "" {
		a.Room = m
	}
	a.Estate, _, _ = strings.Cut(rest, "\x00")
	if i := firstIndex(a.Estate, a.Unit, a.Room); i >= 0 {
		a.Estate = a.Estate[:i]
	}
	a.Estate = strings.Trim(a.Estate, "-—()（）")
	return a
}

// division is a level of the parts an address starts with: the endings of its
// names, and how long a name may be before its ending.
type division struct {
	ends   []string
	maxLen int
	not    []string // endings that look like the level's but are not: 社区 and 小区 are no districts
}

// divisions are the levels in order: province, city, district or county, town or
// street, village, road.
var divisions = []division{
	{ends: []string{"自治区", "省"}, maxLen: 6},
	{ends: []string{"自治州", "地区", "市", "盟"}, maxLen: 6},
	{ends: []string{"区", "县", "旗", "市"}, maxLen: 5, not: []string{"社区", "小区", "园区", "景区", "片区", "校区", "厂区", "城区", "新区",
		"街区", "库区", "矿区", "山区", "林区", "郊区", "辖区"}},
	{ends: []string{"街道", "镇", "乡"}, maxLen: 5},
	{ends: []string{"社区", "村"}, maxLen: 6},
	{ends: []string{"大道", "路", "街", "巷", "弄"}, maxLen: 8},
}

// leading returns the name of this level at the start of s, or "": at most
// maxLen characters and one of the endings (菜市场 is no city).
func (d *division) leading(s string) string {
	off := 0
	for n := 1; n <= d.maxLen; n++ {
		_, size := utf8.DecodeRuneInString(s[off:])
		if size == 0 {
			return ""
		}
		off += size
		for _, end := range d.ends {
			if !strings.HasPrefix(s[off:], end) || strings.HasPrefix(s[off+len(end):], "场") {
				continue
			}
			part, ok := s[:off+len(end)], true
			for _, w := range d.not {
				ok = ok && !strings.HasSuffix(part, w)
			}
			if ok {
				return part
			}
		}
	}
	return ""
}

func firstIndex(s string, subs ...string) int {
	best := -1
	for _, sub := range subs {
		if sub == "" {
			continue
		}
		if i := strings.Index(s, sub); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}

// Area is the most specific division the address names, from the village up to
// the district: what qualifies a road number or an estate.
func (a Address) Area() string {
	for _, p := range []string{a.Village, a.Town, a.District} {
		if p != "" {
			return p
		}
	}
	return ""
}

// Place is the address down to its building or estate, without the province, the
// city, the district or the unit: 楼下社区锦绣花园, 楼下社区中心路8号. It is "" when
// the address names no estate and no road number, or a road number in no area: a
// village, a town or a road alone says nothing about one place.
func (a Address) Place() string {
	switch {
	case a.Estate != "":
		return a.Area() + a.Estate
	case a.Road != "" && a.Number != "" && a.Area() != "":
		return a.Area() + a.Road + a.Number
	}
	return ""
}

// refine completes an address's divisions from the org tree: the town and village
// of the event's unit when the address names neither, and the tree's names when
// it finds the village the address names.
func refine(a Address, raw string, tree *fengqiao.OrgTree, orgCode string) Address {
	if tree == nil {
		return a
	}
	if u := tree.Locate(raw); u != nil && u.Level == fengqiao.LevelVillage {
		a.Town, a.Village = u.Parent().Name, u.Name
		return a
	}
	if a.Town == "" && a.Village == "" {
		for u := tree.Unit(orgCode); u != nil; u = u.Parent() {
			switch u.Level {
			case fengqiao.LevelVillage:
				a.Village = u.Name
			case fengqiao.LevelTown:
				a.Town = u.Name
			}
		}
	}
	return a
}
