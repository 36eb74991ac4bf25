package manifest

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"

	"fengqiao/connectors"
)

// program is one compiled field mapping.
type program struct {
	field string // where it is in the manifest, for messages: event.title
	prg   cel.Program
	// of names what a missing key was missing from, for messages: 记录 (the
	// default), 响应, 交办.
	of string
}

// compiled holds every compiled expression of a manifest.
type compiled struct {
	id         program
	fields     map[string]program // event or project fields
	parties    []compiledParty
	attributes []compiledAttribute
	actions    map[string]*compiledAction
}

type compiledParty struct {
	each, when, role *program
	person, org      map[string]program
}

// The bounds of one evaluation, so that neither a hostile expression nor a hostile
// record can stall or exhaust the hub: maxCost is CEL's runtime cost (about one
// unit per operation, list element and ten characters; a mapping of a long
// complaint costs a few thousand), and maxTextBytes is the longest text replace or
// join may build, since one call builds its result before the cost is counted
// (r.s.replace("", r.s) is the square of r.s).
const (
	maxCost      = 1_000_000
	maxTextBytes = 1 << 20
)

// newEnv is the CEL environment of a manifest's mappings: the record r and a
// party element p, with the functions of every expression.
func (m *Manifest) newEnv() (*cel.Env, error) {
	return m.newEnvWith(cel.Variable("r", cel.DynType), cel.Variable("p", cel.DynType))
}

// newEnvWith is a CEL environment of a manifest with the given variables: the
// extended string functions (replace and join bounded), parseTime(value,
// format), formatTime(time, format), get(value, path, default) and code(table,
// value).
func (m *Manifest) newEnvWith(vars ...cel.EnvOption) (*cel.Env, error) {
	return cel.NewEnv(append(vars,
		ext.Strings(),
		// Same overloads as ext.Strings, which these redefine.
		cel.Function("replace",
			cel.MemberOverload("string_replace_string_string", []*cel.Type{cel.StringType, cel.StringType, cel.StringType}, cel.StringType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val { return replace(args[0], args[1], args[2], types.Int(-1)) })),
			cel.MemberOverload("string_replace_string_string_int", []*cel.Type{cel.StringType, cel.StringType, cel.StringType, cel.IntType}, cel.StringType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val { return replace(args[0], args[1], args[2], args[3]) }))),
		cel.Function("join",
			cel.MemberOverload("list_join", []*cel.Type{cel.ListType(cel.StringType)}, cel.StringType,
				cel.UnaryBinding(func(list ref.Val) ref.Val { return join(list, types.String("")) })),
			cel.MemberOverload("list_join_string", []*cel.Type{cel.ListType(cel.StringType), cel.StringType}, cel.StringType,
				cel.BinaryBinding(join))),
		// parseTime(value, format): a time, or null for a null or empty value.
		cel.Function("parseTime", cel.Overload("parseTime_dyn_string", []*cel.Type{cel.DynType, cel.StringType}, cel.DynType,
			cel.BinaryBinding(func(v, format ref.Val) ref.Val {
				if v == types.NullValue || v.Value() == "" {
					return types.NullValue
				}
				t, err := parseTime(v.Value(), string(format.(types.String)))
				if err != nil {
					return types.NewErr("%s", err.Error())
				}
				return types.Timestamp{Time: t}
			}))),
		// get(value, "a.b", default): the field at a dotted path, or the default
		// when it is missing, null or empty.
		cel.Function("get", cel.Overload("get_dyn_string_dyn", []*cel.Type{cel.DynType, cel.StringType, cel.DynType}, cel.DynType,
			cel.FunctionBinding(func(args ...ref.Val) ref.Val {
				v := lookup(args[0].Value(), string(args[1].(types.String)))
				if v == nil || v == "" {
					return args[2]
				}
				return types.DefaultTypeAdapter.NativeToValue(v)
			}))),
		cel.Function("code", cel.Overload("code_string_dyn", []*cel.Type{cel.StringType, cel.DynType}, cel.StringType,
			cel.BinaryBinding(func(table, v ref.Val) ref.Val {
				name, key := string(table.(types.String)), fmt.Sprint(v.Value())
				t, ok := m.Codes[name]
				if !ok {
					return types.NewErr("代码表 %s 不存在", name)
				}
				out, ok := t[key]
				if !ok {
					return types.NewErr("代码表 %s 中没有 %q", name, key)
				}
				return types.String(out)
			}))),
		// formatTime(time, format): the time as unix, unixms (numbers), rfc3339 or a
		// Go layout in China Standard Time; null for null.
		cel.Function("formatTime", cel.Overload("formatTime_dyn_string", []*cel.Type{cel.DynType, cel.StringType}, cel.DynType,
			cel.BinaryBinding(func(v, format ref.Val) ref.Val {
				if v == types.NullValue {
					return types.NullValue
				}
				t, ok := v.Value().(time.Time)
				if !ok {
					return types.NewErr("formatTime 的对象应为时间，得到 %v", v.Value())
				}
				f := string(format.(types.String))
				switch f {
				case "unix":
					return types.Int(t.Unix())
				case "unixms":
					return types.Int(t.UnixMilli())
				}
				if !validTimeFormat(f) {
					return types.NewErr("formatTime 的格式须为 unix、unixms、rfc3339 或 Go 时间格式，得到 %q", f)
				}
				return types.String(formatTime(t, f))
			}))),
	)...)
}

// replace is ext.Strings' s.replace(old, new, n) (n < 0 for all), refusing a
// result longer than maxTextBytes before building it.
func replace(s, old, new, n ref.Val) ref.Val {
	str, o, nw, limit := string(s.(types.String)), string(old.(types.String)), string(new.(types.String)), int64(n.(types.Int))
	count := int64(strings.Count(str, o))
	if limit >= 0 {
		count = min(count, limit)
	}
	if size := int64(len(str)) + count*int64(len(nw)-len(o)); size > maxTextBytes {
		return tooLong(size)
	}
	return types.String(strings.Replace(str, o, nw, int(max(limit, -1))))
}

// join is ext.Strings' list.join(separator), refusing a result longer than
// maxTextBytes before building it.
func join(list, separator ref.Val) ref.Val {
	l, ok := list.(traits.Lister)
	if !ok {
		return types.NewErr("join 的对象应为文本列表")
	}
	sep := string(separator.(types.String))
	n := int64(l.Size().(types.Int))
	parts := make([]string, 0, n)
	size := max(n-1, 0) * int64(len(sep))
	for i := range n {
		part, ok := l.Get(types.Int(i)).(types.String)
		if !ok {
			return types.NewErr("join 的对象应为文本列表")
		}
		if size += int64(len(part)); size > maxTextBytes {
			return tooLong(size)
		}
		parts = append(parts, string(part))
	}
	return types.String(strings.Join(parts, sep))
}

func tooLong(size int64) ref.Val {
	return types.NewErr("文本过长：结果将有 %d 字节，超过上限 %d", size, maxTextBytes)
}

// compileAll compiles every expression, reporting each that does not compile.
func (m *Manifest) compileAll(file string, at func(string) int) Problems {
	env, err := m.newEnv()
	if err != nil {
		return Problems{{file, 0, "CEL 环境错误：" + err.Error()}}
	}
	var ps Problems
	compile := func(path, field, src string) *program {
		ast, iss := env.Compile(src)
		if iss.Err() != nil {
			ps = append(ps, Problem{file, at(path), fmt.Sprintf("%s 表达式 %q 有误：%s%s", field, src, firstLine(iss.Err().Error()), celHint(src, iss.Err().Error()))})
			return nil
		}
		prg, err := env.Program(ast, cel.CostLimit(maxCost))
		if err != nil {
			ps = append(ps, Problem{file, at(path), fmt.Sprintf("%s 表达式 %q 有误：%s", field, src, err)})
			return nil
		}
		return &program{field: field, prg: prg}
	}
	c := &compiled{fields: map[string]program{}}
	if p := compile("$.id", "id", m.ID); p != nil {
		c.id = *p
	}
	mapping, section, known := m.Event, "event", eventFields
	if m.Target == "project" {
		mapping, section, known = m.Project, "project", projectFields
	}
	for _, f := range sortedKeys(mapping) {
		if !known[f] {
			ps = append(ps, Problem{file, at("$." + section + "." + f), fmt.Sprintf("%s 中没有字段 %s，可用：%s", section, f, strings.Join(sortedKeys(known), "、"))})
			continue
		}
		if p := compile("$."+section+"."+f, section+"."+f, mapping[f]); p != nil {
			c.fields[f] = *p
		}
	}
	for i, pm := range m.Parties {
		path := fmt.Sprintf("$.parties[%d]", i)
		cp := compiledParty{person: map[string]program{}, org: map[string]program{}}
		opt := func(key, src string) *program {
			if src == "" {
				return nil
			}
			return compile(path+"."+key, fmt.Sprintf("parties[%d].%s", i, key), src)
		}
		cp.each, cp.when, cp.role = opt("each", pm.Each), opt("when", pm.When), opt("role", pm.Role)
		if (pm.Person == nil) == (pm.Organization == nil) {
			ps = append(ps, Problem{file, at(path), fmt.Sprintf("parties[%d] 须有 person 或 organization 之一", i)})
		}
		for kind, fields := range map[string]map[string]string{"person": pm.Person, "organization": pm.Organization} {
			for _, f := range sortedKeys(fields) {
				if !partyFields[kind][f] {
					ps = append(ps, Problem{file, at(path + "." + kind + "." + f), fmt.Sprintf("parties[%d].%s 中没有字段 %s", i, kind, f)})
					continue
				}
				if p := opt(kind+"."+f, fields[f]); p != nil {
					if kind == "person" {
						cp.person[f] = *p
					} else {
						cp.org[f] = *p
					}
				}
			}
		}
		c.parties = append(c.parties, cp)
	}
	ps = append(ps, m.compileAttributes(file, at, compile, c)...)
	ps = append(ps, m.compileActions(file, at, c)...)
	m.compiled = c
	return ps
}

var (
	eventFields = set("kind", "title", "content", "category", "occurredAt", "reportedAt", "status", "handlingLevel",
		"orgCode", "address", "lat", "lon", "outcome", "refersTo", "projectCode", "deadline", "resolvedAt", "updatedAt")
	projectFields = set("code", "name", "class", "subclass", "orgCode", "address", "progress", "ownerName", "ownerCreditCode", "updatedAt")
	partyFields   = map[string]map[string]bool{"person": set("name", "idNumber", "phone", "account"), "organization": set("name", "creditCode")}
)

func set(names ...string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func firstLine(s string) string {
	s = strings.TrimPrefix(s, "ERROR: <input>:")
	first, _, _ := strings.Cut(s, "\n")
	return first
}

var hasChinese = regexp.MustCompile(`\p{Han}`)

// eval runs a program over a record and an optional party element. Its errors
// are quarantine reasons: in Chinese, with CEL's own words kept after them.
func (p program) eval(r, el any) (any, error) {
	return p.evalVars(map[string]any{"r": r, "p": el})
}

// evalVars runs a program over its variables.
func (p program) evalVars(vars map[string]any) (any, error) {
	out, err := p.evalVal(vars)
	if err != nil {
		return nil, err
	}
	if out == types.NullValue {
		return nil, nil
	}
	return out.Value(), nil
}

// evalVal runs a program over its variables and returns CEL's value.
func (p program) evalVal(vars map[string]any) (ref.Val, error) {
	out, _, err := p.prg.Eval(vars)
	if err != nil {
		msg := err.Error()
		if key, ok := strings.CutPrefix(msg, "no such key: "); ok {
			return nil, fmt.Errorf("%s：%s中没有字段 %s", p.field, cmp.Or(p.of, "记录"), key)
		}
		switch {
		case strings.Contains(msg, "cost limit exceeded"):
			msg = fmt.Sprintf("表达式计算量超过上限 %d", maxCost)
		case !hasChinese.MatchString(msg): // CEL's, not one of parseTime, code or the bounds
			msg = "表达式无法求值（" + msg + "）"
		}
		return nil, fmt.Errorf("%s：%s", p.field, msg)
	}
	return out, nil
}

// str evaluates to a string; numbers are written out, null is "".
func (p program) str(r, el any) (string, error) {
	v, err := p.eval(r, el)
	return text(v), err
}

// text writes a value out: numbers in full, times in RFC 3339, null as "".
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		return x.Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

// time evaluates to a time.
func (p program) time(r any) (time.Time, error) {
	v, err := p.eval(r, nil)
	if err != nil {
		return time.Time{}, err
	}
	t, ok := v.(time.Time)
	if !ok {
		return time.Time{}, fmt.Errorf("%s 应为时间（用 parseTime 转换），得到 %v", p.field, orNull(v))
	}
	return t, nil
}

// number evaluates to a finite float: NaN and the infinities (a division by zero,
// the text "NaN") cannot be written, and mean nothing as a coordinate or progress.
func (p program) number(r any) (float64, error) {
	v, err := p.eval(r, nil)
	if err != nil {
		return 0, err
	}
	var n float64
	switch f := reflect.ValueOf(v); {
	case f.CanInt():
		n = float64(f.Int())
	case f.CanUint():
		n = float64(f.Uint())
	case f.CanFloat():
		n = f.Float()
	default:
		s, _ := v.(string)
		if n, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, fmt.Errorf("%s 应为数字，得到 %v", p.field, orNull(v))
		}
	}
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("%s 应为有限的数字，得到 %v", p.field, n)
	}
	return n, nil
}

func orNull(v any) any {
	if v == nil {
		return "空值"
	}
	return v
}

// validTimeFormat reports whether parseTime knows a format.
func validTimeFormat(format string) bool {
	switch format {
	case "unix", "unixms", "rfc3339":
		return true
	}
	return strings.Contains(format, "2006")
}

// parseTime reads a time: unix seconds, unix milliseconds, RFC 3339, or a Go
// layout read in China Standard Time.
func parseTime(v any, format string) (time.Time, error) {
	switch format {
	case "unix", "unixms":
		var n float64
		switch x := v.(type) {
		case float64:
			n = x
		case int64:
			n = float64(x)
		case string:
			f, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("时间 %q 不是数字", x)
			}
			n = f
		default:
			return time.Time{}, fmt.Errorf("时间 %v 不是数字", v)
		}
		if format == "unix" {
			return time.Unix(int64(n), 0), nil
		}
		return time.UnixMilli(int64(n)), nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("时间 %v 不是文本", v)
	}
	layout := format
	if format == "rfc3339" {
		layout = time.RFC3339
	}
	t, err := time.ParseInLocation(layout, s, connectors.CST)
	if err != nil {
		return time.Time{}, fmt.Errorf("时间 %q 不符合格式 %s", s, format)
	}
	return t, nil
}
