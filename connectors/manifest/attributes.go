package manifest

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"fengqiao"
)

// The attributes: an app's own fields kept on its events, typed
// (fengqiao.Attribute), as the manifest's attributes: section declares them.

// compiledAttribute is an attribute mapping with its value compiled.
type compiledAttribute struct {
	name, label string
	typ         fengqiao.AttributeType
	should      string // what a wrong value should be, for messages: 整数
	value       program
	src         string // the value's expression, for messages
}

// attributeTypes are the types an attribute may declare, with what a wrong value
// is told it should be.
var attributeTypes = map[string]struct {
	typ    fengqiao.AttributeType
	should string
}{
	"string": {fengqiao.AttributeString, "文本"},
	"int":    {fengqiao.AttributeInt, "整数"},
	"float":  {fengqiao.AttributeFloat, "数字"},
	"bool":   {fengqiao.AttributeBool, "真假值（true 或 false）"},
	"time":   {fengqiao.AttributeTime, "时间（用 parseTime 转换）"},
}

var attributeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// compileAttributes checks and compiles the attribute mappings into c.
func (m *Manifest) compileAttributes(file string, at func(string) int, compile func(path, field, src string) *program, c *compiled) Problems {
	var ps Problems
	if len(m.Attributes) > 0 && m.Target == "project" {
		return Problems{{file, at("$.attributes"), "attributes 只用于事件（target: event）"}}
	}
	seen := map[string]bool{}
	for i, a := range m.Attributes {
		path := fmt.Sprintf("$.attributes[%d]", i)
		bad := func(key, format string, args ...any) {
			ps = append(ps, Problem{file, at(path + key), fmt.Sprintf(format, args...)})
		}
		t, known := attributeTypes[a.Type]
		switch {
		case !attributeName.MatchString(a.Name):
			bad(".name", "attributes[%d].name 须为英文标识（字母开头，如 replyCount），现为 %q", i, a.Name)
		case seen[a.Name]:
			bad(".name", "attributes 中 %s 重复", a.Name)
		case a.Label == "":
			bad("", "attributes.%s 缺少 label（中文名）", a.Name)
		case !known:
			bad(".type", "attributes.%s.type 须为 string、int、float、bool 或 time，现为 %q", a.Name, a.Type)
		case a.Value == "":
			bad("", "attributes.%s 缺少 value（取值表达式，如 r.replyCount）", a.Name)
		default:
			if p := compile(path+".value", "attributes."+a.Name, a.Value); p != nil {
				c.attributes = append(c.attributes, compiledAttribute{name: a.Name, label: a.Label, typ: t.typ, should: t.should, value: *p, src: a.Value})
			}
		}
		seen[a.Name] = true
	}
	return ps
}

// attribute evaluates an attribute over a record: nil for a null or empty value
// (the event goes without it), an error naming the attribute when the value is
// not of its type.
func (a compiledAttribute) attribute(rec any) (*fengqiao.Attribute, error) {
	v, err := a.value.eval(rec, nil)
	if err != nil || v == nil || v == "" {
		return nil, err
	}
	if s, ok := v.(string); ok && a.typ != fengqiao.AttributeString {
		v = strings.TrimSpace(s) // numbers and true/false exported as text
	}
	var typed any
	switch x := v.(type) {
	case string:
		typed = parseAttribute(a.typ, x)
	case bool:
		if a.typ == fengqiao.AttributeBool || a.typ == fengqiao.AttributeString {
			typed = x
		}
	case int64, uint64, float64:
		typed = numberAttribute(a.typ, x)
	case time.Time:
		if a.typ == fengqiao.AttributeTime {
			typed = x
		}
	}
	if typed == nil {
		return nil, fmt.Errorf("attributes.%s（%s）应为%s，得到 %s", a.name, a.label, a.should, shown(v))
	}
	if a.typ == fengqiao.AttributeString {
		typed = text(typed)
	}
	return &fengqiao.Attribute{Name: a.name, Label: a.label, Type: a.typ, Value: fengqiao.AttributeText(typed)}, nil
}

// parseAttribute reads text as a value of type t, nil if it is not one.
func parseAttribute(t fengqiao.AttributeType, s string) any {
	switch t {
	case fengqiao.AttributeString:
		return s
	case fengqiao.AttributeInt:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case fengqiao.AttributeFloat:
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	case fengqiao.AttributeBool:
		if s == "true" || s == "false" {
			return s == "true"
		}
	}
	return nil
}

// numberAttribute is a number as a value of type t, nil if it cannot be one: an
// int must be whole (a JSON number is a float64; past 2^53 it has lost digits).
func numberAttribute(t fengqiao.AttributeType, n any) any {
	var f float64
	switch x := n.(type) {
	case int64:
		if t == fengqiao.AttributeInt || t == fengqiao.AttributeString {
			return x
		}
		f = float64(x)
	case uint64:
		switch {
		case t == fengqiao.AttributeString:
			return x
		case t == fengqiao.AttributeInt && x <= math.MaxInt64:
			return int64(x)
		}
		f = float64(x)
	case float64:
		f = x
	}
	switch t {
	case fengqiao.AttributeString:
		return f
	case fengqiao.AttributeFloat:
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	case fengqiao.AttributeInt:
		if f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
			return int64(f)
		}
	}
	return nil
}

// shown writes a value for a message: text quoted, others as they print.
func shown(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}
