package chains

import (
	_ "embed"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/goccy/go-yaml"
)

//go:embed rules.yaml
var defaultRules []byte

// DefaultRules is the link rules file that ships with fengqiao, to start a rules
// file from.
func DefaultRules() []byte { return defaultRules }

// The rules a link rules file holds, by name. Every file names each of them.
const (
	RuleNearDuplicate     = "nearDuplicate"
	RuleSameReporter      = "sameReporter"
	RuleSameNameInVillage = "sameNameInVillage"
	RuleSameProject       = "sameProject"
	RuleSameOrganization  = "sameOrganization"
	RuleSameTarget        = "sameTarget"
	RuleSameAddress       = "sameAddress"
	RuleSameDoorplate     = "sameDoorplate"
	RuleRefersTo          = "refersTo"
)

var ruleNames = []string{RuleNearDuplicate, RuleSameReporter, RuleSameNameInVillage, RuleSameProject,
	RuleSameOrganization, RuleSameTarget, RuleSameAddress, RuleSameDoorplate, RuleRefersTo}

// Rule says when two events that share one kind of evidence are linked.
type Rule struct {
	// WindowDays is how many days apart their reports may be.
	WindowDays float64 `json:"windowDays"`
	// Confidence is the rule's weight, 0 to 1.
	Confidence float64 `json:"confidence"`
	// MinSubject is how alike their subjects must be (SubjectSimilarity), 0 for
	// no condition.
	MinSubject float64 `json:"minSubject"`
	// OtherSource links only events of different sources.
	OtherSource bool `json:"otherSource"`
	// Off switches the rule off.
	Off bool `json:"off"`

	// MinSimilarity, MinContainment and MinChars are nearDuplicate's: the
	// estimated Jaccard similarity or containment of the two texts' shingles that
	// makes them one text, and the length (normalized characters) both need.
	MinSimilarity  float64 `json:"minSimilarity"`
	MinContainment float64 `json:"minContainment"`
	MinChars       int     `json:"minChars"`
}

// window is the rule's window in seconds.
func (r *Rule) window() int64 { return int64(r.WindowDays * 86400) }

// Rules is a version of the link rules.
type Rules struct {
	Version string           `json:"version"`
	Rules   map[string]*Rule `json:"rules"`
	// Corroborated, when set, lowers the subject similarity the rules ask for
	// where evidence of two entities (a person, a place, a target) agrees about
	// the same pair: the same person at the same doorplate is one matter even
	// when the second report words it otherwise (邻里纠纷 → 相邻关系纠纷).
	Corroborated *Corroboration `json:"corroborated"`
}

// Corroboration is the subject similarity asked of corroborated evidence.
type Corroboration struct {
	MinSubject float64 `json:"minSubject"`
}

// ParseRules reads a link rules file and checks it whole: a version, every rule
// named once with a window and a confidence, thresholds between 0 and 1.
func ParseRules(text []byte) (*Rules, error) {
	var rs Rules
	if err := yaml.UnmarshalWithOptions(text, &rs, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("串联规则文件有误：%s", yaml.FormatError(err, false, true))
	}
	if rs.Version == "" {
		return nil, fmt.Errorf("串联规则文件缺少 version")
	}
	for name, r := range rs.Rules {
		if !slices.Contains(ruleNames, name) {
			return nil, fmt.Errorf("串联规则「%s」未知（可用：%v）", name, ruleNames)
		}
		if r == nil {
			return nil, fmt.Errorf("串联规则「%s」为空", name)
		}
		where := "串联规则「" + name + "」"
		switch {
		case r.WindowDays <= 0:
			return nil, fmt.Errorf("%s：windowDays 须大于 0", where)
		case r.Confidence <= 0 || r.Confidence > 1:
			return nil, fmt.Errorf("%s：confidence 须在 0 到 1 之间（不含 0）", where)
		case r.MinSubject < 0 || r.MinSubject > 1:
			return nil, fmt.Errorf("%s：minSubject 须在 0 到 1 之间", where)
		case name != RuleNearDuplicate && (r.MinSimilarity != 0 || r.MinContainment != 0 || r.MinChars != 0):
			return nil, fmt.Errorf("%s：minSimilarity、minContainment、minChars 只用于 %s", where, RuleNearDuplicate)
		case name == RuleNearDuplicate && (r.MinSimilarity <= 0 || r.MinSimilarity > 1 || r.MinContainment <= 0 || r.MinContainment > 1):
			return nil, fmt.Errorf("%s：minSimilarity 和 minContainment 须在 0 到 1 之间（不含 0）", where)
		case r.MinChars < 0:
			return nil, fmt.Errorf("%s：minChars 不能为负", where)
		}
	}
	if c := rs.Corroborated; c != nil && (c.MinSubject < 0 || c.MinSubject > 1) {
		return nil, fmt.Errorf("串联规则 corroborated：minSubject 须在 0 到 1 之间")
	}
	for _, name := range ruleNames {
		if rs.Rules[name] == nil {
			return nil, fmt.Errorf("串联规则文件缺少规则「%s」（不用时写 off: true）", name)
		}
	}
	return &rs, nil
}

// horizon is the longest window of the rules in force, in seconds: older events
// can link nothing new. refersTo does not count: a survey finds the event it is
// about by its id, in the window or in the store.
func (rs *Rules) horizon() int64 {
	var h int64
	for name, r := range rs.Rules {
		if !r.Off && name != RuleRefersTo {
			h = max(h, r.window())
		}
	}
	return h
}

// RulesStatus is the state of the link rules.
type RulesStatus struct {
	Version   string
	Rules     []string // the rules switched on
	File      string   // "" for the built-in rules
	LoadedAt  time.Time
	LastError string // why the last changed rules file was refused, "" if it was not
}

// LoadRules makes the rules file at path the store's link rules, read now and
// again by Reload whenever it changes. A file with an error is an error here, and
// the rules in force stay.
func (s *Store) LoadRules(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	rs, err := ParseRules(text)
	if err != nil {
		return err
	}
	s.rulesMu.Lock()
	s.rulesFile, s.rulesMod = path, st.ModTime()
	s.rulesMu.Unlock()
	return s.install(rs)
}

// install puts rules in force. Rules with a longer horizon than the window in
// memory read the window again from the store.
func (s *Store) install(rs *Rules) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.rules.Load()
	s.rules.Store(rs)
	s.rulesMu.Lock()
	s.status = RulesStatus{Version: rs.Version, File: s.rulesFile, LoadedAt: time.Now()}
	for _, name := range ruleNames {
		if !rs.Rules[name].Off {
			s.status.Rules = append(s.status.Rules, name)
		}
	}
	s.rulesMu.Unlock()
	if old != nil && rs.horizon() > old.horizon() {
		return s.loadWindow()
	}
	return nil
}

// Rules returns the link rules in force.
func (s *Store) Rules() *Rules { return s.rules.Load() }

// RulesStatus returns the version of the link rules in force, when it was loaded
// and why the last changed file was refused, if it was.
func (s *Store) RulesStatus() RulesStatus {
	s.rulesMu.Lock()
	defer s.rulesMu.Unlock()
	st := s.status
	st.Rules = slices.Clone(st.Rules)
	sort.Strings(st.Rules)
	return st
}

// Reload reads the rules file again if it changed since it was loaded. A file
// with an error is refused: the error is kept in RulesStatus and returned, and
// the rules in force stay. Built-in rules have nothing to reload.
func (s *Store) Reload() error {
	s.rulesMu.Lock()
	path, mod := s.rulesFile, s.rulesMod
	s.rulesMu.Unlock()
	if path == "" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return s.refuse(err)
	}
	if st.ModTime().Equal(mod) {
		return nil
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return s.refuse(err)
	}
	s.rulesMu.Lock()
	s.rulesMod = st.ModTime()
	s.rulesMu.Unlock()
	rs, err := ParseRules(text)
	if err != nil {
		return s.refuse(err)
	}
	return s.install(rs)
}

func (s *Store) refuse(err error) error {
	s.rulesMu.Lock()
	s.status.LastError = err.Error()
	s.rulesMu.Unlock()
	return err
}

// Watch reloads the rules file every interval until stop is closed, and tells
// log (if not nil) of each version put in force and each file refused.
func (s *Store) Watch(stop <-chan struct{}, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			before := s.RulesStatus()
			err := s.Reload()
			switch after := s.RulesStatus(); {
			case log == nil:
			case err != nil:
				log.Warn("串联规则文件有误，继续使用原规则", "file", after.File, "version", after.Version, "err", err)
			case after.LoadedAt != before.LoadedAt:
				log.Info("串联规则已重新加载", "file", after.File, "version", after.Version)
			}
		}
	}
}
