package manifest

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// celHint says how to write an expression CEL could not compile, "" when it
// knows no better: a key with Chinese (or any non-ASCII) characters cannot be
// selected with a dot (r.留言编号) but is indexed (r["留言编号"]), and has() on
// such a key is a membership test ("留言编号" in r); a bare word is a text constant
// whose YAML quotes were taken by YAML.
func celHint(src, msg string) string {
	if fixed, ok := indexNonASCII(src); ok {
		return fmt.Sprintf("；字段名含中文等非 ASCII 字符时不能用「.」选取，应写作 %s", fixed)
	}
	if strings.Contains(msg, "invalid argument to has() macro") {
		return `；has() 只能检查 x.字段 形式的英文字段名，其他字段名用 in 判断，如 "留言编号" in r`
	}
	if m := undeclared.FindStringSubmatch(msg); m != nil && m[1] != "r" && m[1] != "p" {
		return fmt.Sprintf(`；若 %s 是文字常量，须在 YAML 中再加一层引号：'"%s"'`, m[1], m[1])
	}
	return ""
}

var undeclared = regexp.MustCompile(`undeclared reference to '([^']+)'`)

// indexNonASCII rewrites every selection of a non-ASCII key outside string
// literals, x.键 as x["键"] and has(x.键) as "键" in x; ok is whether there was one.
func indexNonASCII(src string) (string, bool) {
	var out strings.Builder
	found := false
	var quote rune
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case quote != 0:
			out.WriteRune(r)
			if r == '\\' && i+size < len(src) {
				out.WriteByte(src[i+size])
				size++
			} else if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
			out.WriteRune(r)
		case strings.HasPrefix(src[i:], "has("):
			// has(x.键) → "键" in x, when x.键 is a plain path ending in a non-ASCII key.
			end := strings.IndexByte(src[i:], ')')
			if end > 0 {
				arg := src[i+4 : i+end]
				if dot := strings.LastIndexByte(arg, '.'); dot > 0 && isIdent(arg[dot+1:]) && !isASCII(arg[dot+1:]) && !strings.ContainsAny(arg, `"'() `) {
					base, _ := indexNonASCII(arg[:dot])
					fmt.Fprintf(&out, "%q in %s", arg[dot+1:], base)
					found = true
					i += end + 1
					continue
				}
			}
			out.WriteString("has(")
			size = 4
		case r == '.':
			j := i + 1
			for j < len(src) {
				r2, s2 := utf8.DecodeRuneInString(src[j:])
				if !identRune(r2) {
					break
				}
				j += s2
			}
			if key := src[i+1 : j]; key != "" && !isASCII(key) {
				fmt.Fprintf(&out, "[%q]", key)
				found = true
				i = j
				continue
			}
			out.WriteRune(r)
		default:
			out.WriteRune(r)
		}
		i += size
	}
	return out.String(), found
}

func identRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func isIdent(s string) bool {
	for _, r := range s {
		if !identRune(r) {
			return false
		}
	}
	return s != ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// yamlHint says how to write a line YAML could not read when its value looks
// like a CEL expression YAML took for its own syntax: a ?: whose ": " YAML reads
// as a mapping, or a value that starts with a quoted text and goes on. The whole
// expression is then quoted in single quotes.
func yamlHint(text []byte, line int, msg string) string {
	if !strings.Contains(msg, "mapping value is not allowed") && !strings.Contains(msg, "value is not allowed in this context") &&
		!strings.Contains(msg, "could not find end character of") && !strings.Contains(msg, "found unexpected") {
		return ""
	}
	lines := strings.Split(string(text), "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	key, value, ok := strings.Cut(lines[line-1], ": ")
	value = strings.TrimSpace(value)
	if !ok || value == "" || strings.HasPrefix(value, "'") || strings.HasPrefix(value, "{") || strings.HasPrefix(value, "[") {
		return ""
	}
	return fmt.Sprintf("；CEL 表达式含「: 」（如 ?: 三元式）、以引号开头或含「 #」时须整个用单引号括起（其中的单引号写两遍），如：%s: '%s'",
		strings.TrimSpace(key), strings.ReplaceAll(value, "'", "''"))
}
