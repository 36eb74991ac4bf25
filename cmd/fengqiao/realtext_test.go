package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A message board added by a manifest alone: a message posted again with light
// edits, and one account's repeated reports of one matter, form chains; unrelated
// messages of other people do not. The texts are written for this test.
func TestRealTextEvaluationFindsDuplicatesAndRepeatedReports(t *testing.T) {
	t.Parallel()
	const board = `编号,用户,主题,时间,详情
1,U01,华庭小区地下车库长期积水无人处理,2026-03-02 09:10:00,华庭小区3号楼地下车库入口处积水已经两个多月，下雨后水深没过脚踝，业主多次向物业反映均无人处理，请相关部门督促解决。
2,U02,华庭小区地下车库长期积水无人处理！,2026-03-04 20:01:00,华庭小区3号楼地下车库入口处积水已经两个多月， 下雨后水深没过脚踝，业主多次向物业反映均无人处理，请相关部门督促解决！！
3,U03,东湖路菜市场门口占道经营严重,2026-03-05 07:30:00,每天早上东湖路菜市场门口摊贩占道经营，电动车和行人无法通行，早高峰非常拥堵，希望城管加强管理。
4,U03,东湖路菜市场门口占道经营仍未整改,2026-03-19 07:45:00,上次反映的东湖路菜市场门口摊贩占道问题至今没有改善，早上依旧堵得走不动，请城管部门尽快整治。
5,U04,咨询新生儿医保办理流程,2026-03-06 10:00:00,孩子刚出生一个月，想了解新生儿医保需要带哪些材料到哪里办理，网上能否办理。
6,U05,南山村自来水水压不足,2026-03-07 18:20:00,南山村最近一周自来水水压很低，二楼以上基本没有水，村民生活用水困难，请供水公司检修。
7,U06,建议在滨河公园增设公共厕所,2026-03-08 15:00:00,滨河公园面积很大但只有一个厕所，周末游客多时排队很长，建议在公园北门附近再建一座。
`
	dir := t.TempDir()
	path := filepath.Join(dir, "board.csv")
	if err := os.WriteFile(path, []byte(board), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out}
	err := m.chainsRealText(context.Background(), []string{"-csv", path, "-random", "2000",
		"-columns", "id=编号,reporter=用户,title=主题,text=详情,time=时间"})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	report := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`7 messages from board.csv: 7 indexed, 0 quarantined`),
		regexp.MustCompile(`near-duplicate pairs .*: 1, in one chain 1: recall 1.0000`),
		regexp.MustCompile(`same reporter, similar subject .*: 1 pairs, in one chain 1: recall 1.0000`),
		regexp.MustCompile(`in one chain 0: false-link rate 0.0000`),
	} {
		if !want.MatchString(report) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "（无）") {
		t.Errorf("a link without a reason:\n%s", report)
	}
}
