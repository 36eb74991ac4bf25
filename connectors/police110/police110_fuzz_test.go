package police110

import (
	"encoding/json"
	"testing"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/connectorstest"
)

// FuzzIncident maps any bytes as an incident of the change feed: it never panics;
// an incident that is not a dispute is not taken (no event, no reject); any other
// is refused with a Chinese reason or mapped into a 110 event that the runner takes
// in or quarantines with one.
func FuzzIncident(f *testing.F) {
	for _, seed := range []string{
		`{"seq":10452,"jqbh":"J3310810020260402000731","bjsj":"2026-04-02T21:14:05+08:00","jqlb":"纠纷","jqxl":"邻里纠纷",` +
			`"jqbt":"楼上漏水引发争吵","bjnr":"报警人称楼上住户装修导致漏水，双方发生口角","fsdz":"温岭市太平街道锦园社区12幢",` +
			`"jd":121.3762,"wd":28.3721,"bjr":{"xm":"赵海","sfzh":"331081198803150017","lxdh":"13957601234"},` +
			`"cjdw":"太平派出所","zt":"已处置","cjjg":"现场调解，双方和解","gxsj":"2026-04-02T22:40:00+08:00"}`,
		`{"seq":10453,"jqbh":"J3310810020260402000732","bjsj":"2026-04-02T23:01:00Z","jqlb":"纠纷","jqbt":"停车位纠纷",` +
			`"fsdz":"泽国镇前岸村","zt":"处置中","gxsj":"2026-04-02T23:05:00Z"}`,
		`{"seq":10454,"jqbh":"J3310810020260402000733","jqlb":"盗窃","bjsj":"2026-04-02T23:10:00+08:00","zt":"已接警"}`,
		`{"seq":1,"jqbh":"J1","jqlb":"纠纷","bjsj":"2026-04-02 23:10:00","zt":"已接警","gxsj":"2026-04-02T23:10:00+08:00"}`,
		`{"seq":2,"jqbh":"J2","jqlb":"纠纷","bjsj":"0000-01-01T00:00:00+23:59","zt":"已反馈","jqbt":"t","fsdz":"城东街道","gxsj":"9999-12-31T23:59:59-23:59"}`,
		`{"seq":3,"jqbh":"J3","jqlb":"纠纷","bjsj":"2026-04-02T23:10:00+08:00","zt":"已派警","jd":1e308,"wd":-1e308,"bjr":{"xm":" "},"gxsj":"2026-04-02T23:10:00+08:00"}`,
		`{"seq":-1,"jqbh":"","jqlb":"纠纷"}`, `{"jd":"121.3"}`, `{"bjr":null}`, `[1]`, `true`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		batch, decoded := connectors.MapRecords[incident]([][]byte{raw}, json.Unmarshal)
		connectorstest.CheckBatch(t, fengqiao.SourcePolice110, batch)
		if len(decoded) == 0 {
			if len(batch.Rejects) != 1 || len(batch.Events) != 0 {
				t.Fatalf("undecodable record came out as %d events and %d rejects", len(batch.Events), len(batch.Rejects))
			}
			return
		}
		if taken := len(batch.Events) + len(batch.Rejects); (decoded[0].JQLB == "纠纷") != (taken == 1) {
			t.Fatalf("incident of type %q came out as %d events and %d rejects", decoded[0].JQLB, len(batch.Events), len(batch.Rejects))
		}
		for _, e := range batch.Events {
			if e.Kind != fengqiao.KindPoliceCall || e.OrgCode != "" {
				t.Fatalf("kind %q, placed in %q before its address is read", e.Kind, e.OrgCode)
			}
			if (e.Status == fengqiao.StatusResolved) != (e.ResolvedAt != nil) {
				t.Fatalf("status %s, resolved at %v", e.Status, e.ResolvedAt)
			}
		}
	})
}
