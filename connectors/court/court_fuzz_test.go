package court

import (
	"encoding/xml"
	"testing"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/connectorstest"
)

// FuzzFiling maps any bytes as the inside of a <case> of a list page, wrapped as
// Sync wraps it: it never panics, a record is refused with a Chinese reason or
// mapped into a court event that the runner takes in or quarantines with one,
// with a party for each litigant, and the cursor moves forward, never past the
// present.
func FuzzFiling(f *testing.F) {
	for _, seed := range []string{
		`<ah>(2026)浙1081民初1532号</ah><ay>民间借贷纠纷</ay><ajmc>郑某诉黄某民间借贷纠纷</ajmc>` +
			`<ssqq>请求判令被告归还借款8万元及利息</ssqq><larq>2026-03-30</larq><jarq></jarq><ajzt>审理中</ajzt><jafs></jafs>` +
			`<dsrList><dsr><ssdw>原告</ssdw><lx>自然人</lx><mc>郑伟</mc><zjhm>331081197912110035</zjhm><dz>温岭市箬横镇</dz></dsr>` +
			`<dsr><ssdw>被告</ssdw><lx>自然人</lx><mc>黄强</mc><zjhm>33108119850607001X</zjhm><dz>温岭市泽国镇前岸村</dz></dsr></dsrList>` +
			`<gxsj>2026-04-01 09:12:44</gxsj>`,
		`<ah>(2026)浙1081民初1533号</ah><ay>买卖合同纠纷</ay><ajmc>某公司诉某厂买卖合同纠纷</ajmc><larq>2026-03-31</larq>` +
			`<jarq>2026-04-20</jarq><ajzt>已结案</ajzt><jafs>调解</jafs><dsrList><dsr><ssdw>原告</ssdw><lx>法人</lx>` +
			`<mc>温岭市某机电有限公司</mc><zjhm>91331081MA29XXXX3F</zjhm></dsr></dsrList><gxsj>2026-04-20 16:00:00</gxsj>`,
		`<ah>(2026)浙1081民初1号</ah><larq>2026/03/31</larq><ajzt>已立案</ajzt><gxsj>2026-04-20 16:00:00</gxsj>`,
		`<ah>A</ah><larq>0000-01-01</larq><ajzt>已归档</ajzt><ajmc>t</ajmc><gxsj>9999-12-31 23:59:59</gxsj><dsrList><dsr><dz>城北街道</dz></dsr></dsrList>`,
		`<ah> </ah>`, `<ah>B</ah><ah>C</ah>`, `</case><case>`, `<![CDATA[<ah>x</ah>]]>`, `<ah>&amp;&#0;</ah>`, ``,
	} {
		f.Add([]byte(seed), "")
	}
	f.Fuzz(func(t *testing.T, inner []byte, cursor string) {
		cur, err := connectors.ParseTimeCursor(cursor)
		if err != nil {
			connectorstest.CheckReason(t, "cursor", err)
			return
		}
		raw := append(append([]byte("<case>"), inner...), "</case>"...)
		batch := connectors.MapTimePage[filing](cur, [][]byte{raw}, 1, xml.Unmarshal)
		if len(batch.Events)+len(batch.Rejects) != 1 {
			t.Fatalf("one record came out as %d events and %d rejects", len(batch.Events), len(batch.Rejects))
		}
		connectorstest.CheckBatch(t, fengqiao.SourceCourt, batch)
		connectorstest.CheckTimePage(t, cur, batch)
		for _, e := range batch.Events {
			var fl filing
			xml.Unmarshal(raw, &fl)
			if len(e.Parties) != len(fl.DSR) {
				t.Fatalf("%d parties mapped of %d litigants", len(e.Parties), len(fl.DSR))
			}
		}
	})
}
