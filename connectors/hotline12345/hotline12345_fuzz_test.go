package hotline12345

import (
	"encoding/json"
	"testing"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/connectorstest"
)

// FuzzWorkOrder maps any bytes as a work order of a list page: it never panics,
// a record is refused with a Chinese reason or mapped into a 12345 event that the
// runner takes in or quarantines with one, and the cursor moves forward, never
// past the present.
func FuzzWorkOrder(f *testing.F) {
	for _, seed := range []string{
		`{"gdbh":"GD20260402000117","ldsj":"2026-04-02 08:41:12","ldrxm":"王丽","lxdh":"13805861234","sqlx":"求助","sqlb":"市政设施",` +
			`"sqbt":"路灯不亮","sqnr":"锦园社区北门路灯连续三晚不亮","sfdz":"温岭市太平街道锦园社区","qhdm":"331081001024",` +
			`"bldw":"锦园社区","blzt":"办理中","blqx":"2026-04-07 08:41:12","bjsj":"","hfjg":"","gxsj":"2026-04-02 10:05:00"}`,
		`{"gdbh":"GD20260402000118","ldsj":"2026-04-02 09:00:00","sqlx":"投诉","sqbt":"餐馆油烟扰民","sfdz":"泽国镇前岸村",` +
			`"bldw":"温岭市市场监督管理局","blzt":"已办结","bjsj":"2026-04-03 17:20:00","hfjg":"满意","gxsj":"2026-04-03 17:20:00"}`,
		`{"gdbh":"GD1","ldsj":"2026-02-30 25:61:00","blzt":"已派单","gxsj":"2026-04-02 10:05:00"}`,
		`{"gdbh":"GD2","ldsj":"2026-04-02 08:00:00","blzt":"已归档","gxsj":"2099-01-01 00:00:00","sqbt":"未来"}`,
		`{"gdbh":"GD3","ldsj":"0000-01-01 00:00:00","blzt":"待受理","gxsj":"9999-12-31 23:59:59","sqnr":"x","qhdm":"331081"}`,
		`{"gdbh":"  ","blzt":"挂起"}`,
		`{"gdbh":7}`, `{"gdbh":"GD4","ldrxm":"\u0000","lxdh":"\ud800"}`, `[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(seed), "")
	}
	f.Add([]byte(`{"gdbh":"GD5","ldsj":"2026-04-02 08:00:00","blzt":"已派单","sqbt":"t","gxsj":"2026-04-02 08:00:00"}`),
		`{"since":"2026-04-02T08:00:00+08:00","page":3}`)
	f.Fuzz(func(t *testing.T, raw []byte, cursor string) {
		cur, err := connectors.ParseTimeCursor(cursor)
		if err != nil {
			connectorstest.CheckReason(t, "cursor", err)
			return
		}
		batch := connectors.MapTimePage[workOrder](cur, [][]byte{raw}, 1, json.Unmarshal)
		if len(batch.Events)+len(batch.Rejects) != 1 {
			t.Fatalf("one record came out as %d events and %d rejects", len(batch.Events), len(batch.Rejects))
		}
		connectorstest.CheckBatch(t, fengqiao.SourceHotline12345, batch)
		connectorstest.CheckTimePage(t, cur, batch)
		for _, e := range batch.Events {
			if e.HandlingLevel != "" && e.HandlingLevel != fengqiao.HandlingVillage && e.HandlingLevel != fengqiao.HandlingTown &&
				e.HandlingLevel != fengqiao.HandlingCounty {
				t.Fatalf("handling level %q", e.HandlingLevel)
			}
			if !e.OccurredAt.Equal(e.ReportedAt) {
				t.Fatalf("called at %v, reported at %v", e.OccurredAt, e.ReportedAt)
			}
		}
	})
}
