package mediation

import (
	"encoding/json"
	"testing"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/connectorstest"
)

// FuzzCase maps any bytes as a case of a ledger page: it never panics, a record
// is refused with a Chinese reason or mapped into a mediation event that the
// runner takes in or quarantines with one, each party of the case is a party of
// the event, and the cursor moves forward, never past the present.
func FuzzCase(f *testing.F) {
	for _, seed := range []string{
		`{"caseNo":"TJ-331081-2026-000412","caseTitle":"宅基地边界纠纷","caseDesc":"两户因围墙位置发生争执，村调委会现场丈量",` +
			`"disputeType":"邻里纠纷","occurTime":1775000000000,"acceptTime":1775003600000,"gridCode":"331081100208001",` +
			`"address":"泽国镇前岸村","handleLevel":"村级","caseStatus":"调解成功","finishTime":1775200000000,` +
			`"lastModifyTime":1775200000000,"parties":[{"partyType":"1","partyRole":"申请人","name":"林建国",` +
			`"idCard":"33108119650101123x","phone":"13906581234"},{"partyType":"2","partyRole":"被申请人",` +
			`"name":"温岭市某建材有限公司","creditCode":"91331081MA2AXXXX1K"}]}`,
		`{"caseNo":"TJ-2","acceptTime":1775003600000,"lastModifyTime":1775003600000,"caseStatus":"调解中","handleLevel":"网格","caseTitle":"欠薪"}`,
		`{"caseNo":"TJ-3","acceptTime":1,"lastModifyTime":9223372036854775807,"caseStatus":"已受理"}`,
		`{"caseNo":"TJ-5","acceptTime":1775003600000,"finishTime":-5,"lastModifyTime":1775003600000,"caseStatus":"调解不成功","parties":[{}]}`,
		`{"caseNo":"TJ-6","acceptTime":0,"caseStatus":"已受理"}`,
		`{"caseNo":"TJ-7","acceptTime":1.5}`, `{"parties":{}}`, `{"caseNo":""}`, `null`, `"x"`, ``,
	} {
		f.Add([]byte(seed), "")
	}
	f.Fuzz(func(t *testing.T, raw []byte, cursor string) {
		cur, err := connectors.ParseTimeCursor(cursor)
		if err != nil {
			connectorstest.CheckReason(t, "cursor", err)
			return
		}
		batch := connectors.MapTimePage[caseRecord](cur, [][]byte{raw}, 1, json.Unmarshal)
		if len(batch.Events)+len(batch.Rejects) != 1 {
			t.Fatalf("one record came out as %d events and %d rejects", len(batch.Events), len(batch.Rejects))
		}
		connectorstest.CheckBatch(t, fengqiao.SourceMediation, batch)
		connectorstest.CheckTimePage(t, cur, batch)
		for _, e := range batch.Events {
			var r caseRecord
			json.Unmarshal(raw, &r)
			if len(e.Parties) != len(r.Parties) {
				t.Fatalf("%d parties mapped of %d", len(e.Parties), len(r.Parties))
			}
			if e.OccurredAt.After(e.ReportedAt) && r.OccurTime <= 0 {
				t.Fatalf("occurred %v after it was reported %v", e.OccurredAt, e.ReportedAt)
			}
		}
	})
}
