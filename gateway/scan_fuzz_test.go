package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// FuzzRequestBody checks the scanner that reads request bodies before they are
// decoded: it never panics, never calls valid JSON invalid, and lets through only
// variables that checkVariables, which looks at them decoded, accepts as well.
func FuzzRequestBody(f *testing.F) {
	for _, seed := range []string{
		`{"query": "{ me { name } }"}`,
		`{"query": "query($a: [String]) { x }", "variables": {"a": ["一", "二", "\u957f\"\\"], "b": {"c": [1, 2.5, -3e2, true, null]}}}`,
		`[{"query": "{ me { name } }"}]`, `"x"`, ``, `{`, `{"variables": [[[[[[]]]]]]}`,
		`{"variables": {"a": ` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}}`,
		`{"variables": {"a": "` + strings.Repeat("长", 10001) + `"}}`,
		`{"variables": {"a": [` + strings.Repeat("1,", 100) + `1]}}`,
		`{"query": "{}", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}} `,
		`{"a":1}{"b":2}`, `{"variables": {"a": "\ud83d\ude00"}}`, `{"variables": null}`, `{"variables": "x"}`,
	} {
		f.Add([]byte(seed))
	}
	cfg := Config{}.withDefaults()
	f.Fuzz(func(t *testing.T, body []byte) {
		bad := scanBody(cfg, body, "请求体")
		if bad != nil && json.Valid(body) && bad.status == http.StatusBadRequest && strings.Contains(bad.message, "不是合法的 JSON") {
			t.Fatalf("valid JSON refused as invalid: %q", body)
		}
		if bad != nil {
			return
		}
		var req struct {
			Variables map[string]any `json:"variables"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&req) != nil {
			return
		}
		if err := checkVariables(cfg, req.Variables); err != nil {
			t.Fatalf("scanned as fine, refused decoded (%s): %q", err.Message, body)
		}
	})
}
