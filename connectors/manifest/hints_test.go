package manifest_test

import (
	"strings"
	"testing"

	"fengqiao/connectors/manifest"
)

// TestMappingHints: an expression CEL or YAML cannot read is refused with how
// to write it.
func TestMappingHints(t *testing.T) {
	t.Parallel()
	cases := []struct{ from, to, says string }{
		{"title: r.title", "title: r.留言编号", `应写作 r["留言编号"]`},
		{"title: r.title", "title: r.data.标题 + r.摘要", `应写作 r.data["标题"] + r["摘要"]`},
		{"title: r.title", `title: r.标题 + "a.中文"`, `应写作 r["标题"] + "a.中文"`},
		{"title: r.title", `title: 'has(r.留言) ? r.留言 : ""'`, `应写作 "留言" in r ? r["留言"] : ""`},
		{"title: r.title", `title: 'has(r["留言"]) ? "有" : ""'`, `has() 只能检查 x.字段 形式的英文字段名，其他字段名用 in 判断，如 "留言编号" in r`},
		{"title: r.title", `title: r.done ? "办结" : r.title`, `须整个用单引号括起（其中的单引号写两遍），如：title: 'r.done ? "办结" : r.title'`},
		{"title: r.title", `title: "标题：" + r.title`, `如：title: '"标题：" + r.title'`},
		{"title: r.title", `title: r.a == 'x' ? r.b : r.c`, `如：title: 'r.a == ''x'' ? r.b : r.c'`},
		{`kind: '"REQUEST"'`, `kind: "REQUEST"`, `若 REQUEST 是文字常量，须在 YAML 中再加一层引号：'"REQUEST"'`},
	}
	for _, tc := range cases {
		text := strings.Replace(good, tc.from, tc.to, 1)
		_, err := manifest.Parse("app.yaml", []byte(text), nil)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want it to say %s", tc.to, err, tc.says)
		}
	}
	// Written as the hints say, they load.
	for _, fixed := range []string{`title: r["留言编号"]`, `title: '"留言编号" in r ? r["留言编号"] : ""'`, `title: 'r.done ? "办结" : r.title'`} {
		if _, err := manifest.Parse("app.yaml", []byte(strings.Replace(good, "title: r.title", fixed, 1)), nil); err != nil {
			t.Errorf("%s: %v", fixed, err)
		}
	}
}
