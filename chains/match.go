package chains

import (
	"cmp"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble"

	"fengqiao"
)

// finding is what the rules found between the event being linked and one other.
type finding struct {
	evidence map[string]*fengqiao.LinkEvidence // by rule
	// weak is evidence whose subjects are less alike than its rule asks: it links
	// only where evidence of another entity agrees (corroborated).
	weak  map[string]*fengqiao.LinkEvidence
	kinds []TargetKind // of the targets sameTarget matched
}

// entityOf says which entity a rule's evidence is about: a person, a place, or a
// target (project, organization, school…). Two entities agreeing corroborate
// each other.
func entityOf(rule string) string {
	switch rule {
	case RuleSameReporter, RuleSameNameInVillage:
		return "person"
	case RuleSameAddress, RuleSameDoorplate:
		return "place"
	case RuleSameProject, RuleSameOrganization, RuleSameTarget:
		return "target"
	}
	return ""
}

// match finds the events the rules link an event with, and the evidence for each
// link: the recent events under each of its evidence keys and in each bucket of
// its sketch, at most candidatesPerKey and candidatesPerBand of them.
func (s *Store) match(r pebble.Reader, rules *Rules, e *fengqiao.Event, self *memo, subject, named []uint32, evidences []evidence) (map[string]*linkRecord, error) {
	w := s.win
	// An earlier version of the event itself is no candidate.
	mine, myOrd := w.lookup(e.ID)
	isMine := func(ord uint32) bool { return mine != nil && ord == myOrd }
	found := map[string]*finding{}
	record := func(other, rule string, r *Rule, score float64, matched string, kind TargetKind, weak bool) {
		f := found[other]
		if f == nil {
			f = &finding{evidence: map[string]*fengqiao.LinkEvidence{}, weak: map[string]*fengqiao.LinkEvidence{}}
			found[other] = f
		}
		into := f.evidence
		if weak {
			into = f.weak
		}
		le := into[rule]
		if le == nil {
			le = &fengqiao.LinkEvidence{Rule: rule, Confidence: r.Confidence}
			into[rule] = le
		}
		le.Score = max(le.Score, score)
		if matched != "" && !slices.Contains(le.Matched, matched) {
			le.Matched = append(le.Matched, matched)
		}
		if kind != "" {
			f.kinds = append(f.kinds, kind)
		}
	}
	// How alike the subjects are, once per candidate. For evidence about a
	// target the target is left out (two reports are not about one thing for
	// naming one estate); one reporter's reports are compared with the targets
	// their titles name, which tell what they are about.
	type pair struct {
		ord   uint32
		named bool
	}
	subjects := map[pair]float64{}
	var withNamed, otherWithNamed []uint32
	if len(named) > 0 {
		withNamed = union(nil, subject, named)
	} else {
		withNamed = subject
	}
	subjectOf := func(ord uint32, m *memo, rule string) float64 {
		p := pair{ord, entityOf(rule) == "person"}
		if v, ok := subjects[p]; ok {
			return v
		}
		their, theirNamed := w.subject(m)
		v := Jaccard(subject, their)
		if p.named {
			if len(theirNamed) > 0 {
				otherWithNamed = union(otherWithNamed, their, theirNamed)
				their = otherWithNamed
			}
			v = Jaccard(withNamed, their)
		}
		v = max(v, textSimilarity(self, m))
		subjects[p] = v
		return v
	}

	for _, ev := range evidences {
		rule := rules.Rules[ev.rule]
		if rule.Off {
			continue
		}
		if ev.rule == RuleRefersTo && !ev.lookupOnly {
			// What a survey is about is a candidate itself, if it has come.
			if at, ok, err := s.reportedAt(r, e.RefersTo); err != nil {
				return nil, err
			} else if ok && abs(at-self.at) <= rule.window() {
				record(e.RefersTo, ev.rule, rule, 1, "", "", false)
			}
		}
		w.walk(keyHash(ev.key), candidatesPerKey, self.at-rule.window(), func(ord uint32, m *memo) bool {
			if isMine(ord) || abs(m.at-self.at) > rule.window() || rule.OtherSource && m.source == self.source {
				return true
			}
			if vetoed(ev.rule, self, m) {
				return true
			}
			score, weak := 1.0, false
			if rule.MinSubject > 0 {
				if score = subjectOf(ord, m, ev.rule); score < rule.MinSubject {
					if c := rules.Corroborated; c == nil || score < c.MinSubject || entityOf(ev.rule) == "" {
						return true
					}
					weak = true
				}
			}
			label := ev.label
			if ev.rule == RuleRefersTo {
				label = ""
			}
			record(w.id(m), ev.rule, rule, score, label, ev.kind, weak)
			return true
		})
	}

	// Near-duplicates: the events in the buckets of the sketch's bands, each
	// compared once.
	if rule := rules.Rules[RuleNearDuplicate]; !rule.Off && self.sketch.Size > 0 && self.chars >= uint32(rule.MinChars) {
		seen := make([]uint32, 0, SketchBands*candidatesPerBand)
		for band := range SketchBands {
			w.walkBand(&self.sketch, band, candidatesPerBand, func(ord uint32, m *memo) bool {
				if slices.Contains(seen, ord) {
					return true
				}
				seen = append(seen, ord)
				if isMine(ord) || m.chars < uint32(rule.MinChars) || abs(m.at-self.at) > rule.window() {
					return true
				}
				if m.text == self.text {
					record(w.id(m), RuleNearDuplicate, rule, 1, "相同文本", "", false)
				} else if j := self.sketch.Jaccard(&m.sketch); j >= rule.MinSimilarity {
					record(w.id(m), RuleNearDuplicate, rule, j, "相似度", "", false)
				} else if c := self.sketch.Containment(&m.sketch); c >= rule.MinContainment {
					record(w.id(m), RuleNearDuplicate, rule, c, "包含度", "", false)
				}
				return true
			})
		}
	}

	out := make(map[string]*linkRecord, len(found))
	for other, f := range found {
		// Weak evidence counts where another entity's evidence agrees.
		entities := map[string]bool{}
		for _, m := range []map[string]*fengqiao.LinkEvidence{f.evidence, f.weak} {
			for rule := range m {
				if e := entityOf(rule); e != "" {
					entities[e] = true
				}
			}
		}
		if len(entities) >= 2 {
			for rule, le := range f.weak {
				if f.evidence[rule] == nil {
					f.evidence[rule] = le
				}
			}
		}
		if len(f.evidence) == 0 {
			continue
		}
		l := &linkRecord{What: "对象"}
		if len(f.kinds) > 0 && !slices.ContainsFunc(f.kinds, func(k TargetKind) bool { return k != f.kinds[0] }) {
			l.What = string(f.kinds[0])
		}
		for _, name := range ruleNames {
			if le := f.evidence[name]; le != nil {
				l.Evidence = append(l.Evidence, *le)
			}
		}
		out[other] = l
	}
	return out, nil
}

// linksPerChain bounds the links an event is given into one chain: it joins the
// chain through any of them, and more would cost writes and say nothing new.
const linksPerChain = 4

// bestPerChain keeps, of the links found, the strongest linksPerChain into each
// chain (by confidence, then score); links to events in no chain all stay.
func (s *Store) bestPerChain(found map[string]*linkRecord) map[string]*linkRecord {
	if len(found) <= linksPerChain {
		return found
	}
	type candidate struct {
		id          string
		chain       uint64
		conf, score float64
	}
	list := make([]candidate, 0, len(found))
	for id, l := range found {
		c := candidate{id: id, chain: noChain, conf: l.confidence()}
		for _, ev := range l.Evidence {
			c.score = max(c.score, ev.Score)
		}
		if m, _ := s.win.lookup(id); m != nil && m.chain != chainUnknown {
			c.chain = m.chain
		}
		list = append(list, c)
	}
	slices.SortFunc(list, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.chain, b.chain), cmp.Compare(b.conf, a.conf), cmp.Compare(b.score, a.score), strings.Compare(a.id, b.id))
	})
	for i, kept := 0, 0; i < len(list); i++ {
		if i > 0 && list[i].chain != list[i-1].chain {
			kept = 0
		}
		if kept++; list[i].chain != noChain && kept > linksPerChain {
			delete(found, list[i].id)
		}
	}
	return found
}

// textSimilarity estimates how alike two events' whole texts are: 1 for the same
// normalized text, else from their sketches.
func textSimilarity(a, b *memo) float64 {
	if a.text == b.text && a.sketch.Size > 0 {
		return 1
	}
	return a.sketch.Jaccard(&b.sketch)
}

// reportedAt returns when an event was reported, from the window or, for an
// event before it, the store.
func (s *Store) reportedAt(r pebble.Reader, id string) (int64, bool, error) {
	if m, _ := s.win.lookup(id); m != nil {
		return m.at, true, nil
	}
	raw, err := get(r, key(spaceSigs, id))
	if err != nil || raw == nil {
		return 0, false, err
	}
	sig, ok := decodeSig(raw)
	return sig.Reported, ok, nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// vetoed reports whether two events that share evidence for a rule are yet about
// different things. One reporter's complaints about two villages, or titled with
// two different targets, are two matters however alike they read. Reports about
// one project, target or address that name different organizations and none in
// common (two contractors' unpaid workers on one site) are two matters too.
// (Targets named only in a text do not count against a reporter: a long message
// names many things in passing.)
func vetoed(rule string, a, b *memo) bool {
	switch rule {
	case RuleSameReporter:
		return a.village != 0 && b.village != 0 && a.village != b.village || disjoint(a.targets, b.targets)
	case RuleSameProject, RuleSameTarget, RuleSameAddress, RuleSameDoorplate:
		return disjoint(a.orgs, b.orgs)
	}
	return false
}

// disjoint reports whether two events both name things (targetBit sets) and none
// in common.
func disjoint(a, b uint64) bool { return a != 0 && b != 0 && a&b == 0 }
