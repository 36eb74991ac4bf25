package manifest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"fengqiao"
	"fengqiao/connectors"
)

// Action is one request of the write side (actions:): how the app receives a
// piece of work — method, path, query, headers and a JSON body mapped from the
// dispatch d — and how its answer is read: success, ref, duplicate and reason,
// CEL over the answer's status, body and headers. docs/connectors.md, "写回 /
// The write side: actions", teaches it.
type Action struct {
	Method string `json:"method"` // POST (default), PUT or PATCH
	// Path, query values and header values are templates: text with {CEL}
	// parts over d, e.g. /api/messages/{d.sourceId}/transfers.
	Path    string            `json:"path"`
	Query   map[string]string `json:"query"`
	Headers map[string]string `json:"headers"`
	// IdempotencyHeader names the header under which the app takes a request id
	// and answers a repeat as a duplicate: the dispatch's Key is sent in it.
	IdempotencyHeader string            `json:"idempotencyHeader"`
	Body              map[string]string `json:"body"` // field → CEL over d; none for no body
	Success           string            `json:"success"`
	Ref               string            `json:"ref"`
	Duplicate         string            `json:"duplicate"`
	Reason            string            `json:"reason"`
	// Lookup asks an app without idempotency keys whether it has the work
	// already, before each send.
	Lookup *Lookup `json:"lookup"`
}

// Lookup is the request that finds work an app already has, for apps without
// idempotency keys: found and ref are CEL over its answer.
type Lookup struct {
	Method  string            `json:"method"` // GET (default) or POST
	Path    string            `json:"path"`
	Query   map[string]string `json:"query"`
	Headers map[string]string `json:"headers"`
	Body    map[string]string `json:"body"`
	Found   string            `json:"found"`
	Ref     string            `json:"ref"`
}

// The actions a manifest may declare.
const (
	ActionDispatch  = "dispatch"  // 交办: receives every dispatch without an action of its own
	ActionSupervise = "supervise" // 督办: dispatches of OrderKind SUPERVISE
)

var actionTitles = map[string]string{ActionDispatch: "交办", ActionSupervise: "督办"}

// ActionTitle is an action's Chinese name.
func ActionTitle(name string) string { return actionTitles[name] }

// template is text with {CEL} parts.
type template []templatePart

type templatePart struct {
	text string
	expr *program
}

type compiledRequest struct {
	method  string
	path    template
	query   map[string]template
	headers map[string]template
	body    map[string]program // nil: no body
}

type compiledAction struct {
	name                            string
	req                             compiledRequest
	idem                            string
	success, ref, duplicate, reason *program
	lookup                          *compiledLookup
}

type compiledLookup struct {
	req        compiledRequest
	found, ref *program
}

var headerName = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

// compiler compiles the expressions of one environment, reporting each problem.
type compiler struct {
	env  *cel.Env
	file string
	at   func(string) int
	ps   *Problems
	of   string // what a missing key is missing from: 交办, 响应
}

func (k compiler) bad(path, format string, args ...any) {
	*k.ps = append(*k.ps, Problem{k.file, k.at(path), fmt.Sprintf(format, args...)})
}

// expr compiles one expression; a non-nil want is the type it must give (or dyn).
func (k compiler) expr(path, field, src string, want *cel.Type) *program {
	ast, iss := k.env.Compile(src)
	if iss.Err() != nil {
		k.bad(path, "%s 表达式 %q 有误：%s%s", field, src, firstLine(iss.Err().Error()), celHint(src, iss.Err().Error()))
		return nil
	}
	if want != nil && !ast.OutputType().IsExactType(want) && !ast.OutputType().IsExactType(cel.DynType) {
		k.bad(path, "%s 须为真假值表达式（如 status == 200），%q 得到的是 %s", field, src, ast.OutputType())
		return nil
	}
	prg, err := k.env.Program(ast, cel.CostLimit(maxCost))
	if err != nil {
		k.bad(path, "%s 表达式 %q 有误：%s", field, src, err)
		return nil
	}
	return &program{field: field, prg: prg, of: k.of}
}

// template compiles text with {CEL} parts.
func (k compiler) template(path, field, src string) template {
	var t template
	rest := src
	for rest != "" {
		open, close := strings.IndexByte(rest, '{'), strings.IndexByte(rest, '}')
		switch {
		case open < 0 && close < 0:
			t = append(t, templatePart{text: rest})
			rest = ""
		case close >= 0 && (open < 0 || close < open):
			k.bad(path, "%s 中的 } 没有对应的 {：%q（{…} 内写表达式，如 {d.sourceId}）", field, src)
			return nil
		default:
			end := strings.IndexByte(rest[open+1:], '}')
			inner := -1
			if end >= 0 {
				inner = strings.IndexByte(rest[open+1:open+1+end], '{')
			}
			if end < 0 || inner >= 0 {
				k.bad(path, "%s 中的 { 没有闭合：%q（{…} 内写表达式，如 {d.sourceId}，不可嵌套）", field, src)
				return nil
			}
			if open > 0 {
				t = append(t, templatePart{text: rest[:open]})
			}
			p := k.expr(path, field, rest[open+1:open+1+end], nil)
			if p == nil {
				return nil
			}
			t = append(t, templatePart{expr: p})
			rest = rest[open+1+end+1:]
		}
	}
	return t
}

// request compiles the parts of a request every action and lookup share.
func (k compiler) request(path, field, method string, methods []string, reqPath string, query, headers, body map[string]string) compiledRequest {
	r := compiledRequest{method: strings.ToUpper(method), query: map[string]template{}, headers: map[string]template{}}
	if r.method == "" {
		r.method = methods[0]
	}
	known := false
	for _, m := range methods {
		known = known || m == r.method
	}
	if !known {
		k.bad(path+".method", "%s.method 须为 %s，现为 %q", field, strings.Join(methods, "、"), method)
	}
	if !strings.HasPrefix(reqPath, "/") {
		k.bad(path+".path", "%s.path 须以 / 开头，现为 %q", field, reqPath)
	} else {
		r.path = k.template(path+".path", field+".path", reqPath)
	}
	for _, q := range sortedKeys(query) {
		if q == "" {
			k.bad(path+".query", "%s.query 中有空的参数名", field)
			continue
		}
		r.query[q] = k.template(path+".query."+q, field+".query."+q, query[q])
	}
	for _, h := range sortedKeys(headers) {
		if !headerName.MatchString(h) {
			k.bad(path+".headers", "%s.headers 中的请求头名 %q 不合法", field, h)
			continue
		}
		r.headers[h] = k.template(path+".headers."+h, field+".headers."+h, headers[h])
	}
	if body != nil {
		r.body = map[string]program{}
		if r.method == http.MethodGet {
			k.bad(path+".body", "%s 为 GET 请求，不能有 body", field)
		}
	}
	for _, f := range sortedKeys(body) {
		if f == "" {
			k.bad(path+".body", "%s.body 中有空的字段名", field)
			continue
		}
		if p := k.expr(path+".body."+f, field+".body."+f, body[f], nil); p != nil {
			r.body[f] = *p
		}
	}
	return r
}

// compileActions checks and compiles the write side.
func (m *Manifest) compileActions(file string, at func(string) int, c *compiled) Problems {
	if m.Actions == nil {
		return nil
	}
	var ps Problems
	reqEnv, err := m.newEnvWith(cel.Variable("d", cel.DynType))
	if err != nil {
		return Problems{{file, 0, "CEL 环境错误：" + err.Error()}}
	}
	respEnv, err := m.newEnvWith(cel.Variable("d", cel.DynType), cel.Variable("status", cel.IntType),
		cel.Variable("body", cel.DynType), cel.Variable("headers", cel.MapType(cel.StringType, cel.StringType)))
	if err != nil {
		return Problems{{file, 0, "CEL 环境错误：" + err.Error()}}
	}
	req := compiler{env: reqEnv, file: file, at: at, ps: &ps, of: "交办"}
	resp := compiler{env: respEnv, file: file, at: at, ps: &ps, of: "响应"}
	if m.Actions[ActionDispatch] == nil {
		req.bad("$.actions", "actions 须包含 dispatch（交办）")
	}
	c.actions = map[string]*compiledAction{}
	for _, name := range sortedKeys(m.Actions) {
		a, path, field := m.Actions[name], "$.actions."+name, "actions."+name
		if actionTitles[name] == "" {
			req.bad(path, "actions 中没有动作 %s，可用：dispatch（交办）、supervise（督办）", name)
			continue
		}
		if a == nil {
			continue // reported above for dispatch; an empty supervise is as if absent
		}
		ca := &compiledAction{name: name, idem: a.IdempotencyHeader}
		ca.req = req.request(path, field, a.Method, []string{http.MethodPost, http.MethodPut, http.MethodPatch}, a.Path, a.Query, a.Headers, a.Body)
		if a.IdempotencyHeader != "" && !headerName.MatchString(a.IdempotencyHeader) {
			req.bad(path+".idempotencyHeader", "%s.idempotencyHeader 须为请求头名（如 X-Request-Id），现为 %q", field, a.IdempotencyHeader)
		}
		if a.Success == "" {
			req.bad(path, "%s 缺少 success（判断上游已受理的表达式，如 status == 200 && body.code == 0）", field)
		} else {
			ca.success = resp.expr(path+".success", field+".success", a.Success, cel.BoolType)
		}
		if a.Ref == "" {
			req.bad(path, "%s 缺少 ref（上游为该工作分配的编号，如 body.data.id）", field)
		} else {
			ca.ref = resp.expr(path+".ref", field+".ref", a.Ref, nil)
		}
		if a.Duplicate != "" {
			ca.duplicate = resp.expr(path+".duplicate", field+".duplicate", a.Duplicate, cel.BoolType)
		}
		if a.Reason != "" {
			ca.reason = resp.expr(path+".reason", field+".reason", a.Reason, nil)
		}
		if l := a.Lookup; l != nil {
			lpath, lfield := path+".lookup", field+".lookup"
			cl := &compiledLookup{req: req.request(lpath, lfield, l.Method, []string{http.MethodGet, http.MethodPost}, l.Path, l.Query, l.Headers, l.Body)}
			if l.Found == "" {
				req.bad(lpath, "%s 缺少 found（判断上游已有该工作的表达式，如 size(body.data.list) > 0）", lfield)
			} else {
				cl.found = resp.expr(lpath+".found", lfield+".found", l.Found, cel.BoolType)
			}
			if l.Ref == "" {
				req.bad(lpath, "%s 缺少 ref（已有工作的编号，如 body.data.list[0].id）", lfield)
			} else {
				cl.ref = resp.expr(lpath+".ref", lfield+".ref", l.Ref, nil)
			}
			ca.lookup = cl
		}
		c.actions[name] = ca
	}
	return ps
}

// Warnings are what connector check points out in a manifest that loads: an
// action a lost answer can make twice, a lookup that never runs.
func (m *Manifest) Warnings() []string {
	var out []string
	for _, name := range sortedKeys(m.Actions) {
		a := m.Actions[name]
		if a == nil || actionTitles[name] == "" {
			continue
		}
		switch {
		case a.IdempotencyHeader == "" && a.Lookup == nil:
			out = append(out, fmt.Sprintf("actions.%s 既没有 idempotencyHeader 也没有 lookup：发出的%s若得不到答复（超时、断线），重试时上游可能重复创建同一工作", name, actionTitles[name]))
		case a.IdempotencyHeader != "" && a.Lookup != nil:
			out = append(out, fmt.Sprintf("actions.%s 已有 idempotencyHeader，lookup 不会执行（上游按请求号去重）", name))
		}
	}
	return out
}

// ActionNames are the actions the manifest declares, sorted.
func (m *Manifest) ActionNames() []string {
	var out []string
	for _, name := range sortedKeys(m.Actions) {
		if m.Actions[name] != nil && actionTitles[name] != "" {
			out = append(out, name)
		}
	}
	return out
}

// dispatchVars are the variables of a request's expressions: the dispatch d.
func dispatchVars(d fengqiao.Dispatch) map[string]any {
	var deadline any
	deadlineText := ""
	if !d.Deadline.IsZero() {
		deadline, deadlineText = d.Deadline, d.Deadline.In(connectors.CST).Format("2006-01-02 15:04:05")
	}
	return map[string]any{"d": map[string]any{
		"key": d.Key, "action": string(d.Action), "orderCode": d.OrderCode, "orderKind": string(d.OrderKind),
		"sourceId": d.SourceID, "orgCode": d.OrgCode, "department": d.Department,
		"deadline": deadline, "deadlineText": deadlineText,
		"priority": string(d.Priority), "instructions": d.Instructions,
	}}
}

// responseVars adds an answer to a dispatch's variables: its status, its body
// (decoded JSON, else the text, null when empty) and its headers (lower-case
// names, first values).
func responseVars(vars map[string]any, resp *connectors.Response) map[string]any {
	var body any
	if len(resp.Body) > 0 {
		if json.Unmarshal(resp.Body, &body) != nil {
			body = string(resp.Body)
		}
	}
	headers := map[string]string{}
	for k, v := range resp.Header {
		if len(v) > 0 {
			headers[strings.ToLower(k)] = v[0]
		}
	}
	return map[string]any{"d": vars["d"], "status": int64(resp.Status), "body": body, "headers": headers}
}

// outgoing is a rendered request: path and query, headers and body.
type outgoing struct {
	method string
	uri    string
	header http.Header
	body   []byte // nil: none
}

func (t template) render(vars map[string]any, escape func(string) string) (string, error) {
	var b strings.Builder
	for _, part := range t {
		if part.expr == nil {
			b.WriteString(part.text)
			continue
		}
		v, err := part.expr.evalVars(vars)
		if err != nil {
			return "", err
		}
		s := text(v)
		if escape != nil {
			s = escape(s)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// render builds the request for a dispatch's variables.
func (r compiledRequest) render(vars map[string]any) (*outgoing, error) {
	path, err := r.path.render(vars, url.PathEscape)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	for _, k := range sortedKeys(r.query) {
		v, err := r.query[k].render(vars, nil)
		if err != nil {
			return nil, err
		}
		q.Set(k, v)
	}
	if len(q) > 0 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + q.Encode()
	}
	out := &outgoing{method: r.method, uri: path, header: http.Header{}}
	for _, k := range sortedKeys(r.headers) {
		v, err := r.headers[k].render(vars, nil)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("actions 请求头 %s 的值含换行", k)
		}
		out.header.Set(k, v)
	}
	if r.body != nil {
		obj := map[string]any{}
		for _, k := range sortedKeys(r.body) {
			v, err := r.body[k].evalVal(vars)
			if err != nil {
				return nil, err
			}
			if obj[k], err = jsonValue(v, 0); err != nil {
				return nil, fmt.Errorf("%s：%v", r.body[k].field, err)
			}
		}
		if out.body, err = json.Marshal(obj); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// jsonValue turns a CEL value into one encoding/json writes: times in RFC 3339
// (China Standard Time), maps with text keys, finite numbers.
func jsonValue(v ref.Val, depth int) (any, error) {
	if depth > 100 {
		return nil, fmt.Errorf("值嵌套过深")
	}
	switch x := v.(type) {
	case types.Null:
		return nil, nil
	case types.String:
		return string(x), nil
	case types.Bool:
		return bool(x), nil
	case types.Int:
		return int64(x), nil
	case types.Uint:
		return uint64(x), nil
	case types.Double:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("应为有限的数字，得到 %v", float64(x))
		}
		return float64(x), nil
	case types.Timestamp:
		return x.Time.In(connectors.CST).Format(time.RFC3339), nil
	case traits.Mapper:
		out := map[string]any{}
		for it := x.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			key, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("对象的键应为文本，得到 %v", k.Value())
			}
			val, err := jsonValue(x.Get(k), depth+1)
			if err != nil {
				return nil, err
			}
			out[string(key)] = val
		}
		return out, nil
	case traits.Lister:
		n := int64(x.Size().(types.Int))
		out := make([]any, 0, n)
		for i := range n {
			val, err := jsonValue(x.Get(types.Int(i)), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, val)
		}
		return out, nil
	}
	if v.Type() == types.ErrType {
		return nil, fmt.Errorf("%v", v)
	}
	return nil, fmt.Errorf("无法写成 JSON：%v（%s）", v.Value(), reflect.TypeOf(v.Value()))
}

// Verdict is how an action's answer reads.
type Verdict struct {
	Accepted  bool // success, or a duplicate
	Duplicate bool
	Ref       string
	RefError  error  // ref could not be read from an accepted answer
	Reason    string // why the app refused, when not accepted
}

// boolOf evaluates a true-or-false expression.
func boolOf(p *program, vars map[string]any) (bool, error) {
	v, err := p.evalVars(vars)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s 应为真假值，得到 %v", p.field, orNull(v))
	}
	return b, nil
}

func strOf(p *program, vars map[string]any) (string, error) {
	v, err := p.evalVars(vars)
	return text(v), err
}

// judge reads an answer to the action: duplicate, then success, then reason. An
// error says the answer could not be judged (the outcome is unknown).
func (a *compiledAction) judge(vars map[string]any, resp *connectors.Response) (Verdict, error) {
	rv := responseVars(vars, resp)
	var dupErr error
	if a.duplicate != nil {
		dup, err := boolOf(a.duplicate, rv)
		if err == nil && dup {
			ref, err := strOf(a.ref, rv)
			return Verdict{Accepted: true, Duplicate: true, Ref: ref, RefError: refError(ref, err, a.ref)}, nil
		}
		dupErr = err
	}
	ok, err := boolOf(a.success, rv)
	if err != nil {
		return Verdict{}, err
	}
	if ok {
		ref, err := strOf(a.ref, rv)
		return Verdict{Accepted: true, Ref: ref, RefError: refError(ref, err, a.ref)}, nil
	}
	if dupErr != nil {
		return Verdict{}, dupErr
	}
	var reason string
	if a.reason != nil {
		reason, _ = strOf(a.reason, rv) // without one, the answer speaks for itself
	}
	if strings.TrimSpace(reason) == "" {
		reason = fmt.Sprintf("HTTP %d %s", resp.Status, excerpt(resp.Body, 200))
	}
	return Verdict{Reason: strings.TrimSpace(reason)}, nil
}

func refError(ref string, err error, p *program) error {
	if err == nil && strings.TrimSpace(ref) == "" {
		return fmt.Errorf("%s 为空", p.field)
	}
	return err
}

// judge reads a lookup's answer: whether the app has the work, and its id.
func (l *compiledLookup) judge(vars map[string]any, resp *connectors.Response) (found bool, ref string, err error) {
	rv := responseVars(vars, resp)
	if found, err = boolOf(l.found, rv); err != nil || !found {
		return found, "", err
	}
	ref, err = strOf(l.ref, rv)
	return true, ref, refError(ref, err, l.ref)
}

// excerpt is the start of a body, at most n characters, on one line.
func excerpt(b []byte, n int) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "�")), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}
