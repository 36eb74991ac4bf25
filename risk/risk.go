// Package risk judges risk by data, not code: a versioned taxonomy of dispute
// categories (two levels, each with a base risk, and code tables from every
// upstream's own categories), and rules written as CEL conditions over events and
// chains. The rules file is reloaded when it changes; a file with an error is
// refused with the reason, and the rules in force stay.
package risk

import (
	_ "embed"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"
	"github.com/goccy/go-yaml"

	"fengqiao"
)

//go:embed taxonomy.yaml
var defaultTaxonomy []byte

//go:embed rules.yaml
var defaultRules []byte

// DefaultRules is the rules file that ships with fengqiao, to start a rules file from.
func DefaultRules() []byte { return defaultRules }

// Taxonomy is the versioned category tree, tags and code tables.
type Taxonomy struct {
	Version    string                       `json:"version"`
	Categories []Category                   `json:"categories"`
	Tags       map[string][]string          `json:"tags"`
	CodeTables map[string]map[string]string `json:"codeTables"` // source → upstream category → subcategory

	subcategories map[string]subcategory // by name
}

// Category is a basic class (基础类) and its professional subclasses (专业类).
type Category struct {
	Name          string             `json:"name"`
	Risk          fengqiao.RiskLevel `json:"risk"`
	Subcategories []Category         `json:"subcategories"`
}

type subcategory struct {
	name, parent string
	risk         fengqiao.RiskLevel
}

// ParseTaxonomy reads a taxonomy file and checks that every code table points at
// a known subcategory and every risk is a known level.
func ParseTaxonomy(text []byte) (*Taxonomy, error) {
	var t Taxonomy
	if err := yaml.UnmarshalWithOptions(text, &t, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("分类文件有误：%s", yaml.FormatError(err, false, true))
	}
	t.subcategories = map[string]subcategory{}
	for _, c := range t.Categories {
		if c.Risk.Rank() == 0 {
			return nil, fmt.Errorf("分类「%s」的风险等级无效：%q", c.Name, c.Risk)
		}
		for _, s := range c.Subcategories {
			if s.Risk.Rank() == 0 {
				return nil, fmt.Errorf("分类「%s/%s」的风险等级无效：%q", c.Name, s.Name, s.Risk)
			}
			t.subcategories[s.Name] = subcategory{s.Name, c.Name, s.Risk}
		}
	}
	for source, table := range t.CodeTables {
		for from, to := range table {
			if _, ok := t.subcategories[to]; !ok {
				return nil, fmt.Errorf("代码表 %s 把「%s」映射到不存在的专业类「%s」", source, from, to)
			}
		}
	}
	return &t, nil
}

// DefaultTaxonomy returns the taxonomy that ships with fengqiao.
func DefaultTaxonomy() *Taxonomy {
	t, err := ParseTaxonomy(defaultTaxonomy)
	if err != nil {
		panic(err) // embedded in the binary: a failure is a build bug
	}
	return t
}

// Classify maps an event's upstream category to the taxonomy: its subcategory,
// basic category and base risk; zero values when the category is not mapped.
func (t *Taxonomy) Classify(source fengqiao.Source, category string) (sub, parent string, base fengqiao.RiskLevel) {
	name := t.CodeTables[string(source)][category]
	if name == "" {
		name = category // the upstream may already use the taxonomy's names
	}
	s, ok := t.subcategories[name]
	if !ok {
		return "", "", ""
	}
	return s.name, s.parent, s.risk
}

// rule is one compiled rule.
type rule struct {
	Name   string `json:"name"`
	On     string `json:"on"` // event or chain
	When   string `json:"when"`
	Level  string `json:"level"` // HIGH, MEDIUM, LOW or from_category
	Reason string `json:"reason"`

	when, reason cel.Program
}

// ruleSet is the rules in force, all compiled.
type ruleSet struct {
	Version string `json:"version"`
	Rules   []*rule
}

// Engine evaluates the rules in force. It is safe for concurrent use.
type Engine struct {
	taxonomy *Taxonomy
	path     string // the rules file; "" for the built-in rules
	rules    atomic.Pointer[ruleSet]

	mu      sync.Mutex
	status  fengqiao.RiskRulesStatus
	modTime time.Time
}

var _ fengqiao.RiskAssessor = (*Engine)(nil)

// New returns an engine with the taxonomy and the rules file at path ("" for the
// built-in rules). A broken file is an error at start.
func New(t *Taxonomy, path string) (*Engine, error) {
	e := &Engine{taxonomy: t, path: path}
	text := defaultRules
	if path != "" {
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if text, err = os.ReadFile(path); err != nil {
			return nil, err
		}
		e.modTime = st.ModTime()
	}
	rs, err := compile(text)
	if err != nil {
		return nil, err
	}
	e.install(rs)
	return e, nil
}

func (e *Engine) install(rs *ruleSet) {
	e.rules.Store(rs)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status.Version, e.status.LoadedAt, e.status.LastError = rs.Version, time.Now(), ""
	e.status.Rules = nil
	for _, r := range rs.Rules {
		e.status.Rules = append(e.status.Rules, r.Name)
	}
}

// Status implements fengqiao.RiskAssessor.
func (e *Engine) Status() fengqiao.RiskRulesStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.status
	s.Rules = append([]string(nil), s.Rules...)
	return s
}

// Reload reads the rules file again if it changed since it was loaded. A file that
// does not compile is refused: the error is kept in Status and returned, and the
// rules in force stay.
func (e *Engine) Reload() error {
	if e.path == "" {
		return nil
	}
	st, err := os.Stat(e.path)
	if err != nil {
		return e.refuse(err)
	}
	e.mu.Lock()
	unchanged := st.ModTime().Equal(e.modTime)
	e.mu.Unlock()
	if unchanged {
		return nil
	}
	text, err := os.ReadFile(e.path)
	if err != nil {
		return e.refuse(err)
	}
	rs, err := compile(text)
	e.mu.Lock()
	e.modTime = st.ModTime()
	e.mu.Unlock()
	if err != nil {
		return e.refuse(err)
	}
	e.install(rs)
	return nil
}

func (e *Engine) refuse(err error) error {
	e.mu.Lock()
	e.status.LastError = err.Error()
	e.mu.Unlock()
	return err
}

// Watch reloads the rules file every interval until stop is closed.
func (e *Engine) Watch(stop <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			e.Reload()
		}
	}
}

var levels = map[string]bool{"HIGH": true, "MEDIUM": true, "LOW": true, "from_category": true}

// compile parses and compiles a rules file, refusing it whole at the first problem.
func compile(text []byte) (*ruleSet, error) {
	var rs ruleSet
	if err := yaml.UnmarshalWithOptions(text, &rs, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("规则文件有误：%s", yaml.FormatError(err, false, true))
	}
	env, err := cel.NewEnv(
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("chain", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("now", cel.TimestampType),
		ext.Strings(),
	)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for i, r := range rs.Rules {
		where := fmt.Sprintf("第%d条规则「%s」", i+1, r.Name)
		switch {
		case r.Name == "" || names[r.Name]:
			return nil, fmt.Errorf("%s：名称为空或重复", where)
		case r.On != "event" && r.On != "chain":
			return nil, fmt.Errorf("%s：on 须为 event 或 chain，现为 %q", where, r.On)
		case !levels[r.Level] || r.Level == "from_category" && r.On != "event":
			return nil, fmt.Errorf("%s：level 须为 HIGH、MEDIUM、LOW（事件规则还可为 from_category），现为 %q", where, r.Level)
		}
		names[r.Name] = true
		for _, part := range []struct {
			src  string
			prg  *cel.Program
			want *cel.Type
		}{{r.When, &r.when, cel.BoolType}, {r.Reason, &r.reason, cel.StringType}} {
			ast, iss := env.Compile(part.src)
			if iss.Err() != nil {
				return nil, fmt.Errorf("%s：表达式 %q 有误：%v", where, part.src, iss.Err())
			}
			if !ast.OutputType().IsExactType(part.want) && !ast.OutputType().IsExactType(cel.DynType) {
				return nil, fmt.Errorf("%s：表达式 %q 的结果应为 %s", where, part.src, part.want)
			}
			if *part.prg, err = env.Program(ast); err != nil {
				return nil, fmt.Errorf("%s：%v", where, err)
			}
		}
	}
	return &rs, nil
}

var amountWan = regexp.MustCompile(`(\d+)万元`)

// eventVars is what rules see of an event.
func (e *Engine) eventVars(ev *fengqiao.Event) map[string]any {
	sub, parent, base := e.taxonomy.Classify(ev.Source, ev.Category)
	amount := 0
	for _, m := range amountWan.FindAllStringSubmatch(ev.Title+ev.Content, -1) {
		n, _ := strconv.Atoi(m[1])
		amount = max(amount, n)
	}
	deadline := time.Time{}
	if ev.Deadline != nil {
		deadline = *ev.Deadline
	}
	return map[string]any{
		"id": ev.ID, "source": string(ev.Source), "kind": string(ev.Kind), "title": ev.Title,
		"category": ev.Category, "subcategory": sub, "basicCategory": parent, "baseRisk": string(base),
		"status": string(ev.Status), "projectCode": ev.ProjectCode, "occurrences": max(1, ev.Occurrences),
		"hasDeadline": ev.Deadline != nil, "deadline": deadline, "amountWan": amount, "reportedAt": ev.ReportedAt,
	}
}

func chainVars(c *fengqiao.ChainFacts) map[string]any {
	if c == nil {
		return map[string]any{"size": 0, "sources": []string{}, "sourceNames": []string{}, "complainants": 0, "maxReportsByOne": 0}
	}
	sources, names := make([]string, len(c.Sources)), make([]string, len(c.Sources))
	for i, s := range c.Sources {
		sources[i], names[i] = string(s), fengqiao.SourceTitles[s]
	}
	return map[string]any{"size": c.Size, "sources": sources, "sourceNames": names, "complainants": c.Complainants, "maxReportsByOne": c.MaxReportsByOne}
}

// judge runs the rules of one kind and merges what they find into acc.
func (e *Engine) judge(acc *assessment, on string, vars map[string]any) {
	for _, r := range e.rules.Load().Rules {
		if r.On != on {
			continue
		}
		out, _, err := r.when.Eval(vars)
		if err != nil || out.Value() != true {
			continue // a rule that cannot judge this case does not fire
		}
		level := fengqiao.RiskLevel(r.Level)
		if r.Level == "from_category" {
			level = fengqiao.RiskLevel(fmt.Sprint(vars["event"].(map[string]any)["baseRisk"]))
		}
		reason := r.Name
		if out, _, err := r.reason.Eval(vars); err == nil {
			reason = fmt.Sprint(out.Value())
		}
		acc.add(level, reason)
	}
}

type assessment struct {
	level   fengqiao.RiskLevel
	reasons []string
	seen    map[string]bool
}

func (a *assessment) add(level fengqiao.RiskLevel, reason string) {
	if level.Rank() > a.level.Rank() {
		a.level = level
	}
	if a.seen == nil {
		a.seen = map[string]bool{}
	}
	if !a.seen[reason] {
		a.seen[reason] = true
		a.reasons = append(a.reasons, reason)
	}
}

func (a *assessment) risk() fengqiao.Risk {
	r := fengqiao.Risk{Level: a.level, Reasons: a.reasons}
	if r.Level == "" {
		r.Level = fengqiao.RiskLow
	}
	if r.Reasons == nil {
		r.Reasons = []string{}
	}
	return r
}

// AssessEvent implements fengqiao.RiskAssessor: the event's rules, and its chain's.
func (e *Engine) AssessEvent(ev *fengqiao.Event, chain *fengqiao.ChainFacts, now time.Time) fengqiao.Risk {
	var a assessment
	vars := map[string]any{"event": e.eventVars(ev), "chain": chainVars(chain), "now": now}
	e.judge(&a, "event", vars)
	if chain != nil {
		e.judge(&a, "chain", vars)
	}
	return a.risk()
}

// AssessChain implements fengqiao.RiskAssessor: the chain's rules, and the rules
// of each of its events.
func (e *Engine) AssessChain(chain fengqiao.ChainFacts, events []*fengqiao.Event, now time.Time) fengqiao.Risk {
	var a assessment
	cv := chainVars(&chain)
	e.judge(&a, "chain", map[string]any{"event": map[string]any{}, "chain": cv, "now": now})
	for _, ev := range events {
		e.judge(&a, "event", map[string]any{"event": e.eventVars(ev), "chain": cv, "now": now})
	}
	return a.risk()
}
