// Package manifest is the declarative connector: a YAML manifest describes an
// upstream REST/JSON app — where it is, how to authenticate, how it pages, where
// its records sit, and how each field maps into an Event or a Project — and the
// engine runs it as a fengqiao.Connector like any written in Go, under the same
// runner, retries, breaker, quarantine and cursors. Field mappings are CEL
// expressions over the record r. docs/connectors.md teaches the format.
package manifest

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"fengqiao"
	"fengqiao/connectors"
)

// Manifest is the parsed form of a manifest file.
type Manifest struct {
	Name       string                       `json:"name"`
	Title      string                       `json:"title"`
	Source     fengqiao.Source              `json:"source"`
	BaseURL    string                       `json:"baseURL"`
	Auth       Auth                         `json:"auth"`
	Request    Request                      `json:"request"`
	Pagination Pagination                   `json:"pagination"`
	Cursor     *Cursor                      `json:"incremental"`
	Records    string                       `json:"records"`
	Target     string                       `json:"target"` // event (default) or project
	ID         string                       `json:"id"`
	Event      map[string]string            `json:"event"`
	Parties    []PartyMapping               `json:"parties"`
	Project    map[string]string            `json:"project"`
	Codes      map[string]map[string]string `json:"codes"`
	Detail     *Detail                      `json:"detail"`
	RateLimit  connectors.Rate              `json:"rateLimit"` // the upstream's rateLimit, written here for short
	Upstream   connectors.UpstreamConfig    `json:"upstream"`
	// Actions is the write side: the requests that deliver work to the app
	// (dispatch 交办, supervise 督办). See actions.go.
	Actions map[string]*Action `json:"actions"`
	// DefaultOrgCode is the unit the app's events are placed in when neither
	// orgCode, address nor refersTo places them (an app from outside the county);
	// "" quarantines them. It must be a unit of the county's tree.
	DefaultOrgCode string `json:"defaultOrgCode"`
	// Attributes are the app's own fields kept on each event, typed.
	Attributes []AttributeMapping `json:"attributes"`

	compiled *compiled
}

// Auth says how requests authenticate; at most one is set.
type Auth struct {
	APIKey *struct {
		Header string `json:"header"`
		Value  string `json:"value"`
	} `json:"apiKey"`
	Bearer *struct {
		TokenURL     string `json:"tokenURL"`
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	} `json:"bearer"`
	HMAC *struct {
		KeyHeader       string `json:"keyHeader"`
		Key             string `json:"key"`
		Secret          string `json:"secret"`
		TimestampHeader string `json:"timestampHeader"`
		SignatureHeader string `json:"signatureHeader"`
		// Sign is the signed text: {method}, {uri} (path and query), {ts} and {body}
		// are replaced; the signature is hex HMAC-SHA256 with the secret.
		Sign string `json:"sign"`
	} `json:"hmac"`
}

// Request is the list request, always a GET.
type Request struct {
	Path  string            `json:"path"`
	Query map[string]string `json:"query"`
}

// Pagination says how the list is paged.
type Pagination struct {
	Type string `json:"type"` // page, offset, token or sinceId
	Size int    `json:"size"` // records per request
	// page: the page number parameter (pages count from 1).
	PageParam string `json:"pageParam"`
	// SizeParam is the page size parameter: required for page paging, optional
	// for token and sinceId paging (without it, Size must be the app's own page size).
	SizeParam string `json:"sizeParam"`
	// offset: the offset and limit parameters.
	OffsetParam string `json:"offsetParam"`
	LimitParam  string `json:"limitParam"`
	// token: the request parameter and the response path of the next token.
	TokenParam string `json:"tokenParam"`
	NextToken  string `json:"nextToken"`
	// sinceId: the parameter that takes the largest id read so far; the app
	// answers the records with larger ids, in increasing id order.
	IDParam string `json:"idParam"`
}

// Cursor is the incremental read of page and offset APIs: an inclusive
// "updated since" parameter and the record field it compares.
type Cursor struct {
	Param  string `json:"param"`
	Field  string `json:"field"`
	Format string `json:"format"` // unix, unixms, rfc3339, or a Go layout in China Standard Time
}

// PartyMapping maps a party: once, or for each element p of the list Each.
type PartyMapping struct {
	Each         string            `json:"each"`
	When         string            `json:"when"`
	Role         string            `json:"role"`
	Person       map[string]string `json:"person"`       // name, idNumber, phone, account (the app's own user id)
	Organization map[string]string `json:"organization"` // name, creditCode
}

// AttributeMapping maps one of the app's own fields to a typed attribute of the
// event (fengqiao.Attribute).
type AttributeMapping struct {
	Name  string `json:"name"`  // identifier: replyCount
	Label string `json:"label"` // Chinese label: 回复数
	Type  string `json:"type"`  // string, int, float, bool or time
	Value string `json:"value"` // CEL over r; null or empty leaves the attribute out
}

// Detail is how one record is read live by its id.
type Detail struct {
	Path   string `json:"path"`   // with {id}
	Record string `json:"record"` // where the record sits in the response, "" for the whole
}

// Problem is one thing wrong with a manifest, at a line of its file.
type Problem struct {
	File string
	Line int
	What string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.What)
	}
	return fmt.Sprintf("%s: %s", p.File, p.What)
}

// Problems is every problem of a manifest; it is an error.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z0-9_.]+)\}`)

// Parse reads a manifest from the text of file, replacing ${NAME} with vars[NAME]
// (else the environment), and checks it whole: every problem is reported with its
// line.
func Parse(file string, text []byte, vars map[string]string) (*Manifest, error) {
	var problems Problems
	lines := strings.Split(string(text), "\n")
	for i, line := range lines {
		lines[i] = varRef.ReplaceAllStringFunc(line, func(ref string) string {
			name := varRef.FindStringSubmatch(ref)[1]
			if v, ok := vars[name]; ok {
				return v
			}
			if v, ok := os.LookupEnv(name); ok {
				return v
			}
			problems = append(problems, Problem{file, i + 1, fmt.Sprintf("变量 ${%s} 未定义", name)})
			return ""
		})
	}
	text = []byte(strings.Join(lines, "\n"))
	var m Manifest
	if err := yaml.UnmarshalWithOptions(text, &m, yaml.Strict()); err != nil {
		line, msg := yamlErrorLine(err), yamlErrorMessage(err)
		return nil, append(problems, Problem{file, line, "格式错误：" + msg + yamlHint(text, line, msg)})
	}
	doc, err := parser.ParseBytes(text, 0)
	if err != nil {
		return nil, append(problems, Problem{file, 0, err.Error()})
	}
	at := func(path string) int { return lineOf(doc, path) }
	problems = append(problems, m.check(file, at)...)
	if len(problems) > 0 {
		return nil, problems
	}
	return &m, nil
}

// ParseFile reads and parses a manifest file.
func ParseFile(path string, vars map[string]string) (*Manifest, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, text, vars)
}

// countyTree is the org tree the hub runs with, against which a manifest's
// default unit is checked at load.
var countyTree = sync.OnceValue(fengqiao.Wenling)

var nameRule = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// check reports what is missing or inconsistent, and compiles every expression.
func (m *Manifest) check(file string, at func(string) int) Problems {
	var ps Problems
	bad := func(path, format string, args ...any) {
		ps = append(ps, Problem{file, at(path), fmt.Sprintf(format, args...)})
	}
	if !nameRule.MatchString(m.Name) {
		bad("$.name", "name 须为小写字母开头的英文标识（如 citymgmt），现为 %q", m.Name)
	}
	if m.Title == "" {
		bad("$.title", "缺少 title（系统中文名）")
	}
	if !m.Source.Valid() {
		bad("$.source", "source 未知：%q，可选 %v", m.Source, fengqiao.Sources)
	}
	if !strings.HasPrefix(m.BaseURL, "http://") && !strings.HasPrefix(m.BaseURL, "https://") {
		bad("$.baseURL", "baseURL 须以 http:// 或 https:// 开头，现为 %q", m.BaseURL)
	}
	auths := 0
	for _, set := range []bool{m.Auth.APIKey != nil, m.Auth.Bearer != nil, m.Auth.HMAC != nil} {
		if set {
			auths++
		}
	}
	if auths > 1 {
		bad("$.auth", "auth 只能选一种：apiKey、bearer 或 hmac")
	}
	if m.Request.Path == "" || !strings.HasPrefix(m.Request.Path, "/") {
		bad("$.request.path", "request.path 须以 / 开头")
	}
	switch p := m.Pagination; p.Type {
	case "page":
		if p.PageParam == "" || p.SizeParam == "" {
			bad("$.pagination", "page 分页须给出 pageParam 和 sizeParam")
		}
	case "offset":
		if p.OffsetParam == "" || p.LimitParam == "" {
			bad("$.pagination", "offset 分页须给出 offsetParam 和 limitParam")
		}
	case "token":
		if p.TokenParam == "" || p.NextToken == "" {
			bad("$.pagination", "token 分页须给出 tokenParam 和 nextToken")
		}
	case "sinceId":
		if p.IDParam == "" {
			bad("$.pagination", "sinceId 分页须给出 idParam（传上次读到的最大编号的参数，如 sinceId）")
		}
	default:
		bad("$.pagination.type", "pagination.type 须为 page、offset、token 或 sinceId，现为 %q", p.Type)
	}
	if m.Pagination.Size <= 0 {
		m.Pagination.Size = 100
	}
	if t := m.Pagination.Type; t == "page" || t == "offset" {
		if m.Cursor == nil || m.Cursor.Param == "" || m.Cursor.Field == "" {
			bad("$.incremental", "page/offset 分页须配置 incremental（param、field、format）以增量同步")
		} else if !validTimeFormat(m.Cursor.Format) {
			bad("$.incremental.format", "incremental.format 须为 unix、unixms、rfc3339 或 Go 时间格式，现为 %q", m.Cursor.Format)
		}
	}
	if m.Records == "" {
		bad("$.records", "缺少 records（记录列表在响应中的路径，如 data.items）")
	}
	if m.Target == "" {
		m.Target = "event"
	}
	required := map[string][]string{
		"event":   {"kind", "title", "reportedAt", "status", "updatedAt"},
		"project": {"code", "name", "updatedAt"},
	}[m.Target]
	if required == nil {
		bad("$.target", "target 须为 event 或 project，现为 %q", m.Target)
	}
	mapping, section := m.Event, "event"
	if m.Target == "project" {
		mapping, section = m.Project, "project"
	}
	for _, f := range required {
		if mapping[f] == "" {
			bad("$."+section, "%s 缺少必填映射 %s", section, f)
		}
	}
	if m.ID == "" {
		bad("$.id", "缺少 id（记录编号的表达式，如 r.caseId）")
	}
	if code := m.DefaultOrgCode; code != "" && countyTree().Unit(code) == nil {
		bad("$.defaultOrgCode", "defaultOrgCode %q 不是本县组织树中的单位（县 %s，或镇街 9 位、村社 12 位、网格 15 位编码）", code, countyTree().Root().Code)
	}
	ps = append(ps, m.compileAll(file, at)...)
	return ps
}

// lineOf returns the line of the YAML node at path, or of its nearest ancestor
// that exists; 0 if none does.
func lineOf(f *ast.File, path string) int {
	for path != "$" && path != "" {
		if p, err := yaml.PathString(path); err == nil {
			if n, err := p.FilterFile(f); err == nil && n != nil {
				return n.GetToken().Position.Line
			}
		}
		path = path[:max(strings.LastIndexAny(path, ".["), 1)]
	}
	return 0
}

var yamlPosition = regexp.MustCompile(`^\[(\d+):\d+\]\s*`)

// yamlErrorLine and yamlErrorMessage split goccy's "[line:col] message".
func yamlErrorLine(err error) int {
	m := yamlPosition.FindStringSubmatch(yaml.FormatError(err, false, false))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func yamlErrorMessage(err error) string {
	msg := yaml.FormatError(err, false, false)
	msg = yamlPosition.ReplaceAllString(msg, "")
	first, _, _ := strings.Cut(msg, "\n")
	return first
}
