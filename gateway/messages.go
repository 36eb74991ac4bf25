package gateway

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// gqlparser and gqlgen word their parse and validation errors in English. The
// gateway answers in Chinese: each message below is rewritten, naming the same
// fields, types and values; a message not in the table keeps its English words
// after the Chinese prefix, so no detail is lost.
var englishMessages = []struct {
	re *regexp.Regexp
	zh string
}{
	// validation (gqlparser's rules)
	{regexp.MustCompile(`^Cannot query field "([^"]*)" on type "([^"]*)"\.(.*)$`), `类型 $2 没有字段 $1。$3`},
	{regexp.MustCompile(`^Unknown argument "([^"]*)" on field "([^"]*)"\.(.*)$`), `字段 $2 没有参数 $1。$3`},
	{regexp.MustCompile(`^Unknown argument "([^"]*)" on directive "([^"]*)"\.(.*)$`), `指令 $2 没有参数 $1。$3`},
	{regexp.MustCompile(`^Field "([^"]*)" argument "([^"]*)" of type "([^"]*)" is required, but it was not provided\.$`), `字段 $1 缺少必填参数 $2（类型 $3）`},
	{regexp.MustCompile(`^Directive "([^"]*)" argument "([^"]*)" of type "([^"]*)" is required, but it was not provided\.$`), `指令 $1 缺少必填参数 $2（类型 $3）`},
	{regexp.MustCompile(`^Field "([^"]*)" must not have a selection since type "([^"]*)" has no subfields\.$`), `字段 $1 的类型 $2 没有子字段，不能再选择字段`},
	{regexp.MustCompile(`^Field "([^"]*)" of type "([^"]*)" must have a selection of subfields\.(.*)$`), `字段 $1（类型 $2）须选择子字段，例如 { $1 { … } }`},
	{regexp.MustCompile(`^Expected value of type "([^"]*)", found (.*)\.$`), `应为 $1 类型的值，收到 $2`},
	{regexp.MustCompile(`^Value "([^"]*)" does not exist in "([^"]*)" enum\.(.*)$`), `枚举 $2 没有取值 $1。$3`},
	{regexp.MustCompile(`^Enum "([^"]*)" cannot represent non-enum value: (.*)\.(.*)$`), `枚举 $1 不能取值 $2。$3`},
	{regexp.MustCompile(`^Field "([^"]*)" of required type "([^"]*)" was not provided\.$`), `缺少必填字段 $1（类型 $2）`},
	{regexp.MustCompile(`^Field "([^"]*)" must be non-null\.$`), `字段 $1 不能为 null`},
	{regexp.MustCompile(`^Field "([^"]*)" is not defined by type "([^"]*)"\.(.*)$`), `输入类型 $2 没有字段 $1。$3`},
	{regexp.MustCompile(`^Int cannot represent non 32-bit signed integer value: (.*)$`), `Int 须为32位有符号整数，收到 $1`},
	{regexp.MustCompile(`^Int cannot represent non-integer value: (.*)$`), `Int 须为整数，收到 $1`},
	{regexp.MustCompile(`^String cannot represent a non string value: (.*)$`), `String 须为字符串，收到 $1`},
	{regexp.MustCompile(`^Boolean cannot represent a non boolean value: (.*)$`), `Boolean 须为 true 或 false，收到 $1`},
	{regexp.MustCompile(`^Float cannot represent non numeric value: (.*)$`), `Float 须为数值，收到 $1`},
	{regexp.MustCompile(`^ID cannot represent a non-string and non-integer value: (.*)$`), `ID 须为字符串或整数，收到 $1`},
	{regexp.MustCompile(`^Variable "([^"]*)" is not defined by operation "([^"]*)"\.$`), `操作 $2 未声明变量 $1`},
	{regexp.MustCompile(`^Variable "([^"]*)" is not defined\.$`), `未声明变量 $1`},
	{regexp.MustCompile(`^Variable "([^"]*)" is never used in operation "([^"]*)"\.$`), `操作 $2 声明的变量 $1 未被使用`},
	{regexp.MustCompile(`^Variable "([^"]*)" is never used\.$`), `声明的变量 $1 未被使用`},
	{regexp.MustCompile(`^Variable "([^"]*)" of type "([^"]*)" used in position expecting type "([^"]*)"\.$`), `变量 $1 的类型 $2 与此处要求的 $3 不符`},
	{regexp.MustCompile(`^Unknown type "([^"]*)"\.(.*)$`), `未知类型 $1。$2`},
	{regexp.MustCompile(`^Unknown directive "([^"]*)"\.$`), `未知指令 $1`},
	{regexp.MustCompile(`^Unknown fragment "([^"]*)"\.$`), `未定义片段 $1`},
	{regexp.MustCompile(`^Fragment "([^"]*)" is never used\.$`), `片段 $1 定义了但未被使用`},
	{regexp.MustCompile(`^There can be only one (argument|fragment|input field|operation|variable) named "([^"]*)"\.$`), `名为 $2 的$1只能有一个`},
	{regexp.MustCompile(`^This anonymous operation must be the only defined operation\.$`), `文档含多个操作时，每个操作都须命名`},
	{regexp.MustCompile(`^Schema does not support operation type "([^"]*)"$`), `接口不支持 $1 操作`},
	{regexp.MustCompile(`^(.*) must select only one top level field\.$`), `订阅 $1 只能选择一个顶层字段`},
	{regexp.MustCompile(`^Fields "([^"]*)" conflict because (.*)\. Use different aliases on the fields to fetch both if this was intentional\.$`), `字段 $1 相互冲突（$2），如需同时请求请使用不同的别名`},
	{regexp.MustCompile(`^Maximum introspection depth exceeded$`), `内省查询嵌套过深`},
	// the variables' values (gqlparser's validator.VariableValues)
	{regexp.MustCompile(`^must be defined$`), `必填，但未提供`},
	{regexp.MustCompile(`^cannot be null$`), `不能为 null`},
	{regexp.MustCompile(`^cannot use (\S+) as (\S+)$`), `类型不对：须为 $2，收到 $1`},
	{regexp.MustCompile(`^must be a (\S+), not a (\S+)$`), `类型不对：须为 $1，收到 $2`},
	{regexp.MustCompile(`^(.*) is not a valid (\S+)$`), `$1 不是 $2 的有效取值`},
	{regexp.MustCompile(`^unknown field$`), `没有这个字段`},
	{regexp.MustCompile(`^enums must be ints or strings$`), `枚举须为字符串`},
	{regexp.MustCompile(`^must an input type$`), `须为输入类型`},
	// the operation chosen (gqlgen's executor)
	{regexp.MustCompile(`^operation (\S+) not found$`), `文档中没有名为 $1 的操作`},
	{regexp.MustCompile(`^operation\s+not found$`), `文档含多个操作，须以 operationName 指明执行哪一个`},
	{regexp.MustCompile(`^no operation provided$`), `请求中没有查询（query 为空）`},
	// syntax (gqlparser's lexer and parser)
	{regexp.MustCompile(`^Expected (.*), found (.*)$`), `此处应为 $1，实际为 $2`},
	{regexp.MustCompile(`^Unexpected <Invalid>$`), `含有无法识别的字符`},
	{regexp.MustCompile(`^Unexpected (.*)$`), `意外的 $1`},
	{regexp.MustCompile(`^Unterminated string\.$`), `字符串缺少结尾的引号`},
	{regexp.MustCompile(`^Cannot parse the unexpected character "(.*)"\.$`), `无法解析的字符 "$1"`},
	{regexp.MustCompile(`^Cannot contain the invalid character "(.*)"$`), `含有非法字符 "$1"`},
	{regexp.MustCompile(`^Invalid number, (.*)$`), `数字格式有误：$1`},
	{regexp.MustCompile(`^Invalid character escape sequence(.*)$`), `字符串中的转义序列无效$1`},
	{regexp.MustCompile(`^Invalid character within String: (.*)\.$`), `字符串中含有非法字符 $1`},
	{regexp.MustCompile(`^expected at least one definition, found (.*)$`), `文档中至少要有一个操作，实际为 $1`},
	{regexp.MustCompile(`^exceeded maximum nesting depth of (\d+)$`), `嵌套超过 $1 层`},
}

var (
	didYouMean = regexp.MustCompile(`\s*Did you mean (to use an inline fragment on )?(.*)\?$`)
	orList     = regexp.MustCompile(`,? or `)
)

// chinese rewrites one of gqlparser's or gqlgen's English messages in Chinese.
func chinese(msg string) string {
	for _, m := range englishMessages {
		if m.re.MatchString(msg) {
			zh := m.re.ReplaceAllString(msg, m.zh)
			return strings.TrimSuffix(strings.TrimSpace(didYouMean.ReplaceAllStringFunc(zh, suggestion)), "。")
		}
	}
	return msg
}

// suggestion rewrites gqlparser's "Did you mean "a", "b" or "c"?".
func suggestion(s string) string {
	m := didYouMean.FindStringSubmatch(s)
	names := orList.ReplaceAllString(m[2], "、")
	if m[1] != "" {
		return "是否想在 " + names + " 上使用内联片段？"
	}
	return "是否想用 " + names + "？"
}

// variableMessage names the variable a value error is about: gqlparser puts it
// in the path (["variable", "n", …]) and not in the message.
func variableMessage(path ast.Path, msg string) string {
	if len(path) < 2 || path[0] != ast.PathName("variable") {
		return msg
	}
	var where strings.Builder
	where.WriteString("变量$")
	for i, el := range path[1:] {
		switch el := el.(type) {
		case ast.PathName:
			if i > 0 {
				where.WriteByte('.')
			}
			where.WriteString(string(el))
		case ast.PathIndex:
			where.WriteString("[" + strconv.Itoa(int(el)) + "]")
		}
	}
	return where.String() + "：" + msg
}
