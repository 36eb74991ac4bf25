package chains

import (
	"hash/fnv"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"fengqiao"
)

// evidence is one reason two events may concern the same matter: events that share
// a key are candidates, and the kind says what else a link needs.
type evidence struct {
	kind  kind
	key   string // the shared value, as stored
	label string // what it is, for the reason shown to users
	// lookupOnly keys find candidates but are not posted: every event looks for
	// surveys of itself, but only a survey is posted under what it surveys.
	lookupOnly bool
}

type kind int

const (
	byProject  kind = iota // the same key project: links alone
	byOrg                  // the same organization, as party or named in the text
	byAddress              // the same building or housing estate
	byPerson               // the same person: links only with similar text
	byRefersTo             // one is about the other (a survey of a work order)
)

// rule says when two events that share evidence of a kind are linked.
type rule struct {
	window     time.Duration // how far apart in time they may be
	confidence float64
	reason     string
	// accepts, when set, must also hold: what else the evidence needs.
	accepts func(a, b *signature) bool
}

const day = 24 * time.Hour

var rules = map[kind]rule{
	byProject: {window: 2 * 365 * day, confidence: 0.9, reason: "同一重点项目"},
	// One organization: reports of the same thing within a month. Reports about a
	// company months apart, or about different things, are separate matters.
	byOrg:     {window: 30 * day, confidence: 0.8, reason: "同一单位且事由相近", accepts: similar},
	byAddress: {window: 365 * day, confidence: 0.75, reason: "同一地址"},
	// One person: the same grievance carried to another channel (网格 → 110 → 法院).
	// A person's unrelated complaints, or the same kind of complaint to the same
	// channel, are not one matter.
	byPerson: {window: 180 * day, confidence: 0.7, reason: "同一当事人且事由相近", accepts: func(a, b *signature) bool {
		return a.Source != b.Source && similar(a, b)
	}},
	byRefersTo: {window: 10 * 365 * day, confidence: 1, reason: "回访针对该事件"},
}

// minTitleSimilarity is how alike (bigram Jaccard, place and organization names
// removed) two titles must be to tell of the same thing.
const minTitleSimilarity = 0.34

func similar(a, b *signature) bool { return jaccard(a.Shingles, b.Shingles) >= minTitleSimilarity }

// orgName finds registered organization names in text: a region, a run of
// Chinese, and a company-like ending (温岭市东海建设工程有限公司). Generic words such
// as 物业公司 name no one in particular and are not taken.
var orgName = regexp.MustCompile(`(?:浙江省|台州市|温岭市)[\p{Han}（）()]{2,25}?(?:有限责任公司|股份有限公司|有限公司|合作社|厂)`)

// evidenceOf returns the keys an event offers for linking.
func (s *Store) evidenceOf(e *fengqiao.Event) []evidence {
	var out []evidence
	add := func(k kind, key, label string) {
		if key != "" {
			out = append(out, evidence{kind: k, key: key, label: label})
		}
	}
	if e.ProjectCode != "" {
		add(byProject, "prj:"+e.ProjectCode, e.ProjectCode)
	}
	if e.RefersTo != "" {
		add(byRefersTo, "ref:"+e.RefersTo, e.RefersTo)
	}
	out = append(out, evidence{kind: byRefersTo, key: "ref:" + e.ID, label: e.ID, lookupOnly: true})
	orgs := map[string]bool{}
	for _, p := range e.Parties {
		if o := p.Organization; o != nil && o.Name != "" {
			orgs[normalizeOrg(o.Name)] = true
		}
		if p.Person != nil {
			for _, k := range personKeys(p.Person, e.OrgCode) {
				add(byPerson, k, p.Person.Name)
			}
		}
	}
	for _, m := range orgName.FindAllString(e.Title+"。"+e.Content, -1) {
		orgs[normalizeOrg(m)] = true
	}
	for o := range orgs {
		if len([]rune(o)) >= 4 {
			add(byOrg, "org:"+o, o)
		}
	}
	if a := s.normalizeAddress(e.Address); a != "" {
		add(byAddress, "addr:"+a, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// personKeys identifies a person by ID number, phone, and name within the village.
func personKeys(p *fengqiao.Person, orgCode string) []string {
	var keys []string
	if p.IDNumber != "" {
		keys = append(keys, "pid:"+p.IDNumber)
	}
	if p.Phone != "" {
		keys = append(keys, "ph:"+p.Phone)
	}
	if p.Name != "" && len(orgCode) >= 12 {
		keys = append(keys, "pn:"+p.Name+"|"+orgCode[:12])
	}
	return keys
}

func normalizeOrg(name string) string {
	return strings.NewReplacer("（", "(", "）", ")", " ", "").Replace(strings.TrimPrefix(strings.TrimSpace(name), "温岭市"))
}

// building marks where an address stops naming a building or estate and starts
// naming a unit within it.
var building = regexp.MustCompile(`\d+(?:幢|栋|号楼|单元|室|楼)`)

// normalizeAddress reduces an address to its building or housing estate, without
// the county prefix: "温岭市泽国镇楼下社区锦绣花园3幢1201室" → "泽国镇楼下社区锦绣花园".
// An address that names no more than a town or village says nothing and is "".
func (s *Store) normalizeAddress(addr string) string {
	addr = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(addr, "浙江省台州市"), "温岭市"))
	if loc := building.FindStringIndex(addr); loc != nil {
		addr = addr[:loc[0]]
	}
	if u := s.tree.Locate(addr); u == nil || u.Level != fengqiao.LevelVillage || strings.HasSuffix(addr, u.Name) {
		return "" // not inside a village, or the village itself
	}
	return addr
}

// titleShingles returns the hashed character bigrams of a title, place names
// removed, for comparing what two events are about.
func (s *Store) titleShingles(e *fengqiao.Event) []uint32 {
	title := orgName.ReplaceAllString(e.Title, "")
	if u := s.tree.Unit(e.OrgCode); u != nil {
		for n := u; n != nil; n = n.Parent() {
			title = strings.ReplaceAll(title, n.Name, "")
		}
	}
	rs := []rune(title)
	seen := map[uint32]bool{}
	var out []uint32
	for i := 0; i+1 < len(rs); i++ {
		h := fnv.New32a()
		h.Write([]byte(string(rs[i : i+2])))
		if v := h.Sum32(); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// jaccard compares two sorted shingle sets.
func jaccard(a, b []uint32) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

func shortHash(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return strconv.FormatUint(h.Sum64(), 36)
}
