package manifest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fengqiao/connectors/manifest"
)

// tokenBoard is a message board read by token paging, three records a page.
const tokenBoard = `name: board
title: 留言板
source: APP
baseURL: http://127.0.0.1:9
request: {path: /list}
pagination: {type: token, size: 3, tokenParam: pageToken, nextToken: data.next}
records: data.list
id: r["留言编号"]
event:
  kind: '"REQUEST"'
  title: r["标题"]
  reportedAt: parseTime(r["时间"], "unix")
  status: '"RECEIVED"'
  updatedAt: parseTime(r["时间"], "unix")
  deadline: get(r, "期限", null)
`

func TestJudgePageOverSavedResponses(t *testing.T) {
	t.Parallel()
	m, err := manifest.Parse("board.yaml", []byte(tokenBoard), nil)
	if err != nil {
		t.Fatal(err)
	}
	conn := manifest.New(m, nil)
	cases := []struct {
		file     string
		records  int
		problems []string // each a part of one problem, in order; none: it passes
		notes    []string
	}{
		{"good.json", 3, nil, []string{"event.deadline 在本页 3 条记录中都为空"}},
		{"last.json", 3, nil, nil}, // a full last page that says so: "next": ""
		{"short.json", 1, nil, nil},
		{"empty.json", 0, nil, nil},
		{"wrongrecords.json", 0, []string{"records: data.list 在响应中找不到，而响应不为空；响应中的记录列表在：result.rows"}, nil},
		{"emptylist_elsewhere.json", 0, []string{"records: data.list 没有记录，而响应中 data.rows 有记录"}, nil},
		{"notoken.json", 3, []string{"留言板返回了满页（3 条，pagination.size 为 3），但响应中没有下一页令牌 data.next"}, nil},
		{"emptytitle.json", 2, []string{`映射字段 event.title 在本页 2 条记录中都为空（检查字段名：表达式 r["标题"]）`}, nil},
		{"repeated.json", 3, []string{"本页记录编号重复：M1"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "pages", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			j, err := conn.JudgePage(body)
			if err != nil {
				t.Fatal(err)
			}
			if len(j.Records) != tc.records {
				t.Errorf("%d records, want %d", len(j.Records), tc.records)
			}
			if len(j.Problems) != len(tc.problems) {
				t.Fatalf("problems %q, want %q", j.Problems, tc.problems)
			}
			for i, want := range tc.problems {
				if !strings.Contains(j.Problems[i], want) {
					t.Errorf("problem %q, want it to say %q", j.Problems[i], want)
				}
			}
			if tc.notes != nil {
				if len(j.Notes) != len(tc.notes) {
					t.Fatalf("notes %q, want %q", j.Notes, tc.notes)
				}
				for i, want := range tc.notes {
					if !strings.Contains(j.Notes[i], want) {
						t.Errorf("note %q, want it to say %q", j.Notes[i], want)
					}
				}
			}
		})
	}
}
