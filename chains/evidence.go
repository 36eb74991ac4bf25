package chains

import (
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"

	"fengqiao"
)

// evidence is one reason two events may concern the same matter: events that
// share a key are candidates, and the rule says what else a link needs.
type evidence struct {
	rule  string // the rule's name: RuleSameProject…
	key   string // the shared value, as keyed
	label string // what matched, for the reason shown to users; never a person's identifier
	kind  TargetKind
	// lookupOnly keys find candidates but are not posted: every event looks for
	// surveys of itself, but only a survey is posted under what it surveys.
	lookupOnly bool
}

// report is an event as linking reads it: its evidence keys, its text prepared
// for comparison (its subject without the targets it names), the targets its
// title names, and the targets it names (targetBit) in its title and, for
// organizations, anywhere.
type report struct {
	evidence     []evidence
	targets      []Target // every target it names, as party, in its text or its address
	text         Text
	named        []uint32 // bigrams of the targets its title names
	titleTargets uint64
	orgs         uint64
}

// readReport reads an event's evidence and text.
func (s *Store) readReport(e *fengqiao.Event) report {
	var out []evidence
	add := func(rule, key, label string, kind TargetKind) {
		if key != "" {
			out = append(out, evidence{rule: rule, key: key, label: label, kind: kind})
		}
	}
	if e.ProjectCode != "" {
		add(RuleSameProject, "prj:"+e.ProjectCode, e.ProjectCode, "")
	}
	if e.RefersTo != "" {
		add(RuleRefersTo, "ref:"+e.RefersTo, e.RefersTo, "")
	}
	out = append(out, evidence{rule: RuleRefersTo, key: "ref:" + e.ID, label: e.ID, lookupOnly: true})

	targets := map[string]Target{}
	for _, p := range e.Parties {
		if o := p.Organization; o != nil && o.Name != "" {
			for _, t := range FindTargets(o.Name) {
				targets[string(t.Kind)+t.Name] = t
			}
		}
		if p.Person != nil {
			for _, k := range personKeys(p.Person, e.OrgCode) {
				add(k.rule, k.key, k.label, "")
			}
		}
	}
	for _, t := range FindTargets(e.Title + "。" + e.Content) {
		targets[string(t.Kind)+t.Name] = t
	}
	if e.Address != "" {
		a := refine(ParseAddress(e.Address), e.Address, s.tree, e.OrgCode)
		if place := a.Place(); place != "" {
			rule, prefix := RuleSameAddress, "addr:"
			if a.Estate == "" {
				rule, prefix = RuleSameDoorplate, "door:"
			}
			add(rule, prefix+place, a.Town+a.Village+place[len(a.Area()):], "")
		}
		// The estate of the address is a target too, for reports that name it.
		for _, t := range FindTargets(a.Estate) {
			targets[string(t.Kind)+t.Name] = t
		}
	}
	for _, t := range targets {
		if t.Kind == TargetOrganization {
			add(RuleSameOrganization, "org:"+strings.ToLower(t.Name), t.Name, t.Kind)
		} else {
			add(RuleSameTarget, "tgt:"+string(t.Kind)+":"+strings.ToLower(t.Name), t.Name, t.Kind)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	var names []string // left out of the subject: places, people, targets
	for _, t := range targets {
		names = append(names, t.Text, t.Name)
	}
	for u := s.tree.Unit(e.OrgCode); u != nil; u = u.Parent() {
		names = append(names, u.Name)
	}
	for _, p := range e.Parties {
		if p.Person != nil && utf8.RuneCountInString(p.Person.Name) >= 2 {
			names = append(names, p.Person.Name)
		}
	}
	r := report{evidence: out, text: NewText(e.Title, e.Content, names...)}
	for _, k := range slices.Sorted(maps.Keys(targets)) {
		r.targets = append(r.targets, targets[k])
	}
	title := width.Fold.String(e.Title)
	var titled []string
	for _, t := range targets {
		if strings.Contains(title, t.Text) {
			r.titleTargets |= targetBit(string(t.Kind) + strings.ToLower(t.Name))
			titled = append(titled, t.Text)
		}
	}
	r.named = nameShingles(titled...)
	for _, ev := range out {
		if ev.rule == RuleSameOrganization {
			r.orgs |= targetBit(ev.key)
		}
	}
	return r
}

type personKey struct{ rule, key, label string }

// personKeys identifies a person by each stable identifier they are known by (ID
// number, phone, an app's account), and, more weakly, by name within the village
// where the event lies in one.
func personKeys(p *fengqiao.Person, orgCode string) []personKey {
	var keys []personKey
	for _, id := range p.Identifiers() {
		v := strings.TrimSpace(id.Value)
		if v == "" || id.Scheme == "" {
			continue
		}
		if id.Scheme == fengqiao.SchemePhone && p.Name != "" {
			// A phone is shared within families and reused: people of different
			// names who give one phone are different reporters.
			v += "|" + p.Name
		}
		keys = append(keys, personKey{RuleSameReporter, "pid:" + id.Scheme + ":" + v, schemeLabel(id.Scheme)})
	}
	if p.Name != "" && len(orgCode) >= 12 {
		keys = append(keys, personKey{RuleSameNameInVillage, "pn:" + p.Name + "|" + orgCode[:12], "同村同名"})
	}
	return keys
}

// schemeLabel names a kind of identifier for users: 身份证号, 电话, board账号.
func schemeLabel(scheme string) string {
	switch scheme {
	case fengqiao.SchemeIDNumber:
		return "身份证号"
	case fengqiao.SchemePhone:
		return "电话"
	}
	if app, ok := strings.CutSuffix(scheme, ":account"); ok {
		return app + "账号"
	}
	return scheme
}

// reason is the Chinese reason a rule gives for a link; what is the kind of
// the targets sameTarget matched (小区, 学校…, 对象 for several kinds).
func reason(ev *fengqiao.LinkEvidence, what string) string {
	matched := strings.Join(ev.Matched, "、")
	score := "相似度" + strconv.FormatFloat(ev.Score, 'f', 2, 64)
	switch ev.Rule {
	case RuleNearDuplicate:
		if len(ev.Matched) == 1 && ev.Matched[0] == "包含度" {
			score = "包含度" + score[len("相似度"):] // one text holds the other
		}
		return "文本近似重复（" + score + "）"
	case RuleSameReporter, RuleSameNameInVillage:
		return "同一当事人且事由相近（" + matched + "，" + score + "）"
	case RuleSameProject:
		return "同一重点项目：" + matched
	case RuleSameOrganization:
		return "同一单位且事由相近：" + matched + "（" + score + "）"
	case RuleSameTarget:
		return "同一" + what + "且事由相近：" + matched + "（" + score + "）"
	case RuleSameAddress:
		return "同一地址：" + matched
	case RuleSameDoorplate:
		return "同一门牌且事由相近：" + matched + "（" + score + "）"
	case RuleRefersTo:
		return "回访针对该事件"
	}
	return ev.Rule
}

func shortHash(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return strconv.FormatUint(h.Sum64(), 36)
}
