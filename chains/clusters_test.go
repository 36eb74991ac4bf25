package chains_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/chains"
)

// message is a message-board report by an account, about whatever its text says.
func message(id, account, title, content string, at time.Time) *fengqiao.Event {
	return &fengqiao.Event{ID: fengqiao.EventID(fengqiao.SourceApp, id), Source: fengqiao.SourceApp, SourceID: id,
		Kind: fengqiao.KindComplaint, Title: title, Content: content, ReportedAt: at, UpdatedAt: at,
		Status: fengqiao.StatusReceived, OrgCode: "331081",
		Parties: []fengqiao.Party{{Role: "留言人", Person: fengqiao.NewPerson("", "", "", "", fengqiao.Identifier{Scheme: "board:account", Value: account})}}}
}

// Different people's reports about one gym's prepaid cards are one cluster, with
// every reporter counted once; the same gym's other subject, and one person's
// reports alone, are not that cluster.
func TestDifferentReportersOfOneTargetAndSubjectFormACluster(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	var events []*fengqiao.Event
	for i, who := range []string{"U1", "U2", "U3", "U3"} {
		events = append(events, message(fmt.Sprint("m", i), who, "健身房关门跑路会员卡无法退费",
			fmt.Sprintf("我在力美健身服务有限公司办了会员卡，第%d次反映，门店突然关门，预付的费用要求退还。", i+1), at.Add(time.Duration(i)*48*time.Hour)))
	}
	events = append(events,
		message("n1", "U4", "健身房门口噪音扰民", "力美健身服务有限公司晚上放音乐，噪音很大影响休息。", at),
		message("n2", "U5", "楼下饭店油烟", "某饭店油烟直排，希望处理。", at))
	for range 2 { // re-ingest changes nothing
		if err := s.Link(ctx, events); err != nil {
			t.Fatal(err)
		}
	}
	clusters, err := s.Clusters(ctx, fengqiao.ClusterFilter{MinReporters: 2}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(clusters) != 1 {
		t.Fatalf("clusters %+v, want the gym's prepaid-card cluster alone", clusters)
	}
	c := clusters[0]
	if c.Subject != "预付消费" || c.TargetKind != string(chains.TargetOrganization) || len(c.EventIDs) != 4 {
		t.Errorf("cluster %+v", c)
	}
	again, err := s.Cluster(ctx, c.ID)
	if err != nil || again.ID != c.ID || len(again.EventIDs) != 4 {
		t.Errorf("Cluster(%s) = %+v, %v", c.ID, again, err)
	}
	if _, err := s.Cluster(ctx, "KCNONE"); fengqiao.ErrorCode(err) != fengqiao.ENOTFOUND {
		t.Errorf("an unknown cluster: %v", err)
	}
	// Three reporters: asking for four finds nothing; clusters older than since neither.
	if more, _ := s.Clusters(ctx, fengqiao.ClusterFilter{MinReporters: 4}, 10); len(more) != 0 {
		t.Errorf("four reporters: %+v", more)
	}
	if later, _ := s.Clusters(ctx, fengqiao.ClusterFilter{Since: at.AddDate(0, 1, 0)}, 10); len(later) != 0 {
		t.Errorf("since a month later: %+v", later)
	}
}
