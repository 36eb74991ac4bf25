package hotline12345

import (
	"strings"
	"testing"
	"time"

	"fengqiao"
)

func TestWorkOrderMapping(t *testing.T) {
	t.Parallel()
	o := workOrder{GDBH: "GD20260315000001", LDSJ: "2026-03-15 09:30:00", LDRXM: "陈明", LXDH: "19900001234",
		SQLX: "投诉", SQLB: "城乡建设", SQBT: "夜间施工噪音", SQNR: "工地夜间施工", SFDZ: "温岭市泽国镇楼下社区",
		QHDM: "331081100010", BLDW: "泽国镇人民政府", BLZT: "已办结", BLQX: "2026-03-20 09:30:00",
		BJSJ: "2026-03-16 10:00:00", GXSJ: "2026-03-16 10:00:00"}
	e, err := o.Event()
	if err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	if e.ID != "HOTLINE_12345:GD20260315000001" || e.Kind != fengqiao.KindComplaint || e.Status != fengqiao.StatusResolved ||
		e.HandlingLevel != fengqiao.HandlingTown || e.OrgCode != "331081100010" || e.Category != "城乡建设" ||
		!e.ReportedAt.Equal(time.Date(2026, 3, 15, 9, 30, 0, 0, cst)) || e.ResolvedAt == nil || e.Deadline == nil {
		t.Fatalf("mapped %+v", e)
	}
	if len(e.Parties) != 1 || e.Parties[0].Role != "来电人" || e.Parties[0].Person.Phone != "19900001234" {
		t.Fatalf("parties %+v", e.Parties)
	}
	if err := e.Validate(fengqiao.Wenling()); err != nil {
		t.Fatalf("mapped order does not validate: %v", err)
	}

	for field, breakIt := range map[string]func(*workOrder){
		"工单编号": func(o *workOrder) { o.GDBH = "" },
		"来电时间": func(o *workOrder) { o.LDSJ = "2026/03/15" },
		"更新时间": func(o *workOrder) { o.GXSJ = "" },
		"办理状态": func(o *workOrder) { o.BLZT = "挂起" },
	} {
		bad := o
		breakIt(&bad)
		if _, err := bad.Event(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("broken %s: err = %v, want a reason naming it", field, err)
		}
	}
}
