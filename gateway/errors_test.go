package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"fengqiao"
)

// documentedCodes are the codes of docs/schema.md "Errors".
var documentedCodes = map[string]bool{"invalid": true, "not_found": true, "unauthorized": true, "forbidden": true,
	"limit": true, "unavailable": true, "internal": true, "PERSISTED_QUERY_NOT_FOUND": true}

// englishSentence finds what gqlparser's and gqlgen's English messages are made of.
var englishSentence = regexp.MustCompile(`(?i)\b(cannot|must|found|expected|unknown|defined|provided|operation|did you mean|not)\b`)

// Every error, whatever refused it, has a documented code and a Chinese message,
// and its status follows the policy: 400 refused before running (syntax,
// validation, variables, limits), 200 ran (errors beside data).
func TestEveryErrorHasADocumentedCodeAndAChineseMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.token(t, fengqiao.RoleAnalyst, county)
	for _, tc := range []struct {
		name   string
		body   string
		status int
		code   string
		want   string // part of the message
	}{
		{"unknown field", `{"query":"{ me { nme } }"}`, 400, "invalid", "类型 Principal 没有字段 nme。是否想用 \"name\"？"},
		{"syntax", `{"query":"{ me { name "}`, 400, "invalid", "查询语法错误：此处应为 Name，实际为 <EOF>"},
		{"unexpected character", `{"query":"{ me { name } } ?"}`, 400, "invalid", "查询语法错误：含有无法识别的字符"},
		{"variable of the wrong type", `{"query":"query($n: Int) { events(first: $n) { totalCount } }","variables":{"n":"x"}}`, 400, "invalid", "变量$n：类型不对：须为 Int，收到 string"},
		{"missing variable", `{"query":"query($n: Int!) { events(first: $n) { totalCount } }"}`, 400, "invalid", "变量$n：必填，但未提供"},
		{"unknown argument", `{"query":"{ events(frist: 1) { totalCount } }"}`, 400, "invalid", "字段 Query.events 没有参数 frist。是否想用 \"first\"？"},
		{"leaf without selection", `{"query":"{ me }"}`, 400, "invalid", "字段 me（类型 Principal!）须选择子字段"},
		{"bad enum", `{"query":"{ events(filter: {sources: [NOPE]}) { totalCount } }"}`, 400, "invalid", "枚举 Source! 没有取值 NOPE"},
		{"unknown operation", `{"query":"query A { me { name } }","operationName":"B"}`, 400, "invalid", "文档中没有名为 B 的操作"},
		{"two operations, none chosen", `{"query":"query A { me { name } } query B { me { name } }"}`, 400, "invalid", "须以 operationName 指明"},
		{"empty query", `{"query":""}`, 400, "invalid", "请求中没有查询"},
		{"undefined variable", `{"query":"query { events(first: $n) { totalCount } }"}`, 400, "invalid", "未声明变量 $n"},
		{"unknown persisted query", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("a", 64) + `"}}}`, 400, "PERSISTED_QUERY_NOT_FOUND", "持久化查询未找到"},
		{"persisted query of another version", `{"query":"{ me { name } }","extensions":{"persistedQuery":{"version":2,"sha256Hash":"x"}}}`, 400, "invalid", "版本不受支持"},
		{"bad time argument", `{"query":"{ events(filter: {from: \"yesterday\"}) { totalCount } }"}`, 200, "invalid", "时间格式有误：\"yesterday\""},
		{"bad cursor", `{"query":"{ events(after: \"garbage\") { totalCount } }"}`, 200, "invalid", "分页游标无效"},
		{"forbidden", `{"query":"{ auditLog { edges { cursor } } }"}`, 200, "forbidden", "审计日志仅审计员可查看"},
		{"not JSON", `{`, 400, "invalid", "不是合法的 JSON"},
	} {
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/graphql", bytes.NewReader([]byte(tc.body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r gqlResponse
		if err := json.Unmarshal(raw, &r); err != nil || len(r.Errors) == 0 {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, raw)
			continue
		}
		e := r.Errors[0]
		code, _ := e.Extensions["code"].(string)
		if resp.StatusCode != tc.status || code != tc.code || !strings.Contains(e.Message, tc.want) || !hasChinese.MatchString(e.Message) {
			t.Errorf("%s: %d %s %q, want %d %s %q", tc.name, resp.StatusCode, code, e.Message, tc.status, tc.code, tc.want)
		}
		for _, e := range r.Errors {
			if c, _ := e.Extensions["code"].(string); !documentedCodes[c] {
				t.Errorf("%s: undocumented code %q (%q)", tc.name, c, e.Message)
			}
			if tc.code != "PERSISTED_QUERY_NOT_FOUND" && englishSentence.MatchString(e.Message) {
				t.Errorf("%s: English left in %q", tc.name, e.Message)
			}
		}
	}
}
