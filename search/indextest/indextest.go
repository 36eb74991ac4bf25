// Package indextest is the conformance suite every fengqiao.Index must pass.
package indextest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fengqiao"
)

// Exercise runs the suite against indexes made by open, one fresh index per subtest.
func Exercise(t *testing.T, open func(t *testing.T) fengqiao.Index) {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

	t.Run("UpsertIsIdempotent", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		e := event(fengqiao.SourceHotline12345, "GD1", "331081100201", base)
		mustUpsert(t, idx, e, e)
		mustUpsert(t, idx, e)
		e2 := *e
		e2.Status = fengqiao.StatusResolved
		mustUpsert(t, idx, &e2)
		if n := mustCount(t, idx, fengqiao.EventFilter{}); n != 1 {
			t.Fatalf("count after three upserts of one id = %d, want 1", n)
		}
		got, err := idx.Get(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != fengqiao.StatusResolved || got.Title != e.Title || len(got.Parties) != 1 {
			t.Fatalf("Get returned %+v, want the last version with its parties", got)
		}
	})

	t.Run("AttributesComeBackTyped", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		e := event(fengqiao.SourceApp, "AT1", "331081100201", base)
		e.Attributes = []fengqiao.Attribute{
			{Name: "replyCount", Label: "回复数", Type: fengqiao.AttributeInt, Value: "12"},
			{Name: "score", Label: "评分", Type: fengqiao.AttributeFloat, Value: "4.5"},
			{Name: "anonymous", Label: "是否匿名", Type: fengqiao.AttributeBool, Value: "true"},
			{Name: "repliedAt", Label: "答复时间", Type: fengqiao.AttributeTime, Value: "2026-03-02T09:30:00+08:00"},
			{Name: "channel", Label: "渠道", Type: fengqiao.AttributeString, Value: "微信"},
		}
		mustUpsert(t, idx, e)
		got, err := idx.Get(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		found, err := idx.Lookup(ctx, []string{e.ID})
		if err != nil {
			t.Fatal(err)
		}
		page, err := idx.Search(ctx, fengqiao.EventQuery{First: 1})
		if err != nil || len(page.Events) != 1 {
			t.Fatalf("search: %v, %v", page, err)
		}
		for how, back := range map[string]*fengqiao.Event{"Get": got, "Lookup": found[e.ID], "Search": page.Events[0]} {
			if !slices.Equal(back.Attributes, e.Attributes) {
				t.Errorf("%s returned attributes %+v, want %+v", how, back.Attributes, e.Attributes)
			}
		}
		if n := got.Attributes[0].IntValue(); n == nil || *n != 12 {
			t.Errorf("replyCount reads back as %v, want 12", n)
		}
	})

	t.Run("DeleteRemovesThoseGiven", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		a := event(fengqiao.SourceHotline12345, "D1", "331081100201", base)
		b := event(fengqiao.SourceHotline12345, "D2", "331081100201", base.Add(time.Minute))
		mustUpsert(t, idx, a, b)
		if err := idx.Delete(ctx, []string{a.ID, "HOTLINE_12345:never"}); err != nil {
			t.Fatal(err)
		}
		if _, err := idx.Get(ctx, a.ID); fengqiao.ErrorCode(err) != fengqiao.ENOTFOUND {
			t.Fatalf("Get deleted: err = %v, want ENOTFOUND", err)
		}
		text := "测试事件D"
		if n := mustCount(t, idx, fengqiao.EventFilter{Text: &text}); n != 1 {
			t.Fatalf("count after deleting one of two = %d, want 1", n)
		}
		if err := idx.Delete(ctx, nil); err != nil {
			t.Fatalf("deleting nothing: %v", err)
		}
	})

	t.Run("GetMissingIsNotFound", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		_, err := idx.Get(ctx, "HOTLINE_12345:nope")
		if fengqiao.ErrorCode(err) != fengqiao.ENOTFOUND {
			t.Fatalf("Get missing: err = %v, want ENOTFOUND", err)
		}
	})

	t.Run("LookupReturnsThoseThatExist", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		a := event(fengqiao.SourceHotline12345, "A", "331081100010", base)
		b := event(fengqiao.SourceMediation, "B", "331081100010", base)
		mustUpsert(t, idx, a, b)
		found, err := idx.Lookup(ctx, []string{a.ID, "MEDIATION:none", b.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 2 || found[a.ID].Title != a.Title || found[b.ID].Source != fengqiao.SourceMediation {
			t.Fatalf("Lookup = %v", found)
		}
		if found, err := idx.Lookup(ctx, nil); err != nil || len(found) != 0 {
			t.Fatalf("Lookup(nil) = %v, %v", found, err)
		}
	})

	t.Run("AppsAreNamespaces", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		board, mail := appEvent("board", "1", base), appEvent("mailbox", "1", base.Add(time.Minute))
		other := event(fengqiao.SourceHotline12345, "1", "331081100201", base)
		mustUpsert(t, idx, board, mail, other)
		if n := mustCount(t, idx, fengqiao.EventFilter{}); n != 3 {
			t.Fatalf("two apps' record 1 and the hotline's: count = %d, want 3", n)
		}
		if n := mustCount(t, idx, fengqiao.EventFilter{Sources: []fengqiao.Source{fengqiao.SourceApp}}); n != 2 {
			t.Fatalf("source APP counts %d, want both apps' 2", n)
		}
		if n := mustCount(t, idx, fengqiao.EventFilter{Apps: []string{"mailbox"}}); n != 1 {
			t.Fatalf("app mailbox counts %d, want 1", n)
		}
		got, err := idx.Get(ctx, mail.ID)
		if err != nil || got.App != "mailbox" || got.SourceID != "1" {
			t.Fatalf("Get(%s) = %+v, %v; want the mailbox's record", mail.ID, got, err)
		}
		f, err := idx.Facets(ctx, fengqiao.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want := []fengqiao.FacetCount{{Value: "board", Count: 1}, {Value: "mailbox", Count: 1}}
		if !slices.Equal(f.Apps, want) {
			t.Fatalf("apps facet = %v, want %v", f.Apps, want)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		a := event(fengqiao.SourceHotline12345, "A", "331081100201001", base)
		a.Title, a.Content = "工地拖欠农民工工资", "反映泽国镇某工地拖欠工资三个月"
		b := event(fengqiao.SourceMediation, "B", "331081100202", base.Add(time.Hour))
		b.Title, b.Content = "邻里宅基地纠纷", "两户因宅基地边界发生争执"
		b.Status = fengqiao.StatusResolved
		c := event(fengqiao.SourceMediation, "C", "331081101201", base.Add(2*time.Hour))
		c.Kind, c.ProjectCode = fengqiao.KindComplaint, "XM2026-01"
		mustUpsert(t, idx, a, b, c)

		town, village, grid := "331081100", "331081100201", "331081100201001"
		party := a.Parties[0].PartyID()
		text := func(s string) *string { return &s }
		from, to := base.Add(30*time.Minute), base.Add(2*time.Hour)
		cases := []struct {
			name   string
			filter fengqiao.EventFilter
			want   []string
		}{
			{"all", fengqiao.EventFilter{}, ids(c, b, a)},
			{"source", fengqiao.EventFilter{Sources: []fengqiao.Source{fengqiao.SourceMediation}}, ids(c, b)},
			{"two sources", fengqiao.EventFilter{Sources: []fengqiao.Source{fengqiao.SourceMediation, fengqiao.SourceHotline12345}}, ids(c, b, a)},
			{"kind", fengqiao.EventFilter{Kinds: []fengqiao.EventKind{fengqiao.KindComplaint}}, ids(c)},
			{"status", fengqiao.EventFilter{Statuses: []fengqiao.EventStatus{fengqiao.StatusResolved}}, ids(b)},
			{"town subtree", fengqiao.EventFilter{OrgCode: &town}, ids(b, a)},
			{"village subtree includes its grid", fengqiao.EventFilter{OrgCode: &village}, ids(a)},
			{"grid", fengqiao.EventFilter{OrgCode: &grid}, ids(a)},
			{"time range is [from, to)", fengqiao.EventFilter{From: &from, To: &to}, ids(b)},
			{"chinese inside a longer word", fengqiao.EventFilter{Text: text("拖欠")}, ids(a)},
			{"chinese phrase in content", fengqiao.EventFilter{Text: text("边界")}, ids(b)},
			{"chinese not present", fengqiao.EventFilter{Text: text("噪音")}, nil},
			{"party", fengqiao.EventFilter{PartyID: &party}, ids(a)},
			{"project", fengqiao.EventFilter{ProjectCode: text("XM2026-01")}, ids(c)},
		}
		for _, tc := range cases {
			page, err := idx.Search(ctx, fengqiao.EventQuery{Filter: tc.filter, First: 10})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := pageIDs(page); fmt.Sprint(got) != fmt.Sprint(tc.want) || page.Total != len(tc.want) {
				t.Errorf("%s: got %v (total %d), want %v", tc.name, got, page.Total, tc.want)
			}
			if n := mustCount(t, idx, tc.filter); n != len(tc.want) {
				t.Errorf("%s: Count = %d, want %d", tc.name, n, len(tc.want))
			}
		}
	})

	t.Run("PaginationWalksEverythingOnce", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		var all []*fengqiao.Event
		for i := range 53 {
			// Every third event shares a timestamp with the next, to test tie order.
			all = append(all, event(fengqiao.SourceHotline12345, fmt.Sprintf("P%03d", i), "331081001003", base.Add(time.Duration(i/3)*time.Minute)))
		}
		mustUpsert(t, idx, all...)
		seen := map[string]bool{}
		var last *fengqiao.Event
		after := ""
		for pages := 0; ; pages++ {
			page, err := idx.Search(ctx, fengqiao.EventQuery{First: 10, After: after})
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != len(all) {
				t.Fatalf("Total = %d, want %d", page.Total, len(all))
			}
			for _, e := range page.Events {
				if seen[e.ID] {
					t.Fatalf("event %s returned twice", e.ID)
				}
				if last != nil && e.ReportedAt.After(last.ReportedAt) {
					t.Fatalf("event %s is newer than %s before it", e.ID, last.ID)
				}
				seen[e.ID], last = true, e
			}
			if !page.HasNext {
				break
			}
			after = page.Cursors[len(page.Cursors)-1]
		}
		if len(seen) != len(all) {
			t.Fatalf("walked %d events, want %d", len(seen), len(all))
		}
	})

	t.Run("SearchFindsNamesAddressesIdentifiersAndVariants", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		a := event(fengqiao.SourceMediation, "(2026)浙1081民初1234号", "331081100010", base)
		a.Title, a.Content, a.Category = "拖欠農民工工資糾紛", "工地拖欠工资三个月", "劳资纠纷"
		a.Address = "温岭市泽国镇楼下社区锦绣花园3幢"
		a.ProjectCode = "XM331081-0702-015"
		a.Parties = []fengqiao.Party{
			{Role: "申请人", Person: fengqiao.NewPerson("陈建国", "331081198001019012", "13800001111", "331081100010")},
			{Role: "被申请人", Organization: fengqiao.NewOrganization("温岭市东海建设工程有限公司", "91331081MA2800001X")},
		}
		b := event(fengqiao.SourceHotline12345, "GD1", "331081101004", base.Add(time.Hour))
		b.Title, b.Content, b.Category = "噪音扰民", "ＡＢＣ广场夜间施工", "城乡建设"
		mustUpsert(t, idx, a, b)
		text := func(s string) *string { return &s }
		for _, tc := range []struct {
			name   string
			filter fengqiao.EventFilter
			want   []string
		}{
			{"traditional text, simplified query", fengqiao.EventFilter{Text: text("农民工工资")}, ids(a)},
			{"simplified text, traditional query", fengqiao.EventFilter{Text: text("拖欠工資")}, ids(a)},
			{"full-width text, half-width query", fengqiao.EventFilter{Text: text("abc广场")}, ids(b)},
			{"party name", fengqiao.EventFilter{Text: text("陈建国")}, ids(a)},
			{"organization name inside", fengqiao.EventFilter{Text: text("东海建设")}, ids(a)},
			{"address", fengqiao.EventFilter{Text: text("锦绣花园")}, ids(a)},
			{"ID number", fengqiao.EventFilter{Identifier: text("331081198001019012")}, ids(a)},
			{"phone", fengqiao.EventFilter{Identifier: text("13800001111")}, ids(a)},
			{"credit code", fengqiao.EventFilter{Identifier: text("91331081ma2800001x")}, ids(a)},
			{"case number", fengqiao.EventFilter{Identifier: text("(2026)浙1081民初1234号")}, ids(a)},
			{"project code", fengqiao.EventFilter{Identifier: text("XM331081-0702-015")}, ids(a)},
			{"part of an identifier finds nothing", fengqiao.EventFilter{Identifier: text("3310811980")}, nil},
			{"category", fengqiao.EventFilter{Categories: []string{"城乡建设"}}, ids(b)},
		} {
			page, err := idx.Search(ctx, fengqiao.EventQuery{Filter: tc.filter, First: 10})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := pageIDs(page); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}
		page, err := idx.Search(ctx, fengqiao.EventQuery{Filter: fengqiao.EventFilter{Text: text("工资")}, First: 10, ByRelevance: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Highlights) != 1 || !strings.Contains(strings.Join(page.Highlights[0], ""), "<mark>") {
			t.Errorf("highlights = %q, want the words marked", page.Highlights)
		}
		facets, err := idx.Facets(ctx, fengqiao.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(facets.Sources) != "[{HOTLINE_12345 1} {MEDIATION 1}]" || fmt.Sprint(facets.Towns) != "[{331081100 1} {331081101 1}]" || len(facets.Categories) != 2 {
			t.Errorf("facets = %+v", facets)
		}
	})

	t.Run("WordsPhrasesAndHighlights", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		a := event(fengqiao.SourceHotline12345, "A", "331081100010", base)
		a.Title, a.Content = "关于泽国镇垃圾焚烧厂的咨询", "听说要建垃圾焚烧发电厂，村民担心污染。"
		b := event(fengqiao.SourceHotline12345, "B", "331081100010", base.Add(time.Minute))
		b.Title, b.Content = "小区垃圾清运不及时", "垃圾桶满了，苍蝇很多。"
		c := event(fengqiao.SourceHotline12345, "C", "331081100010", base.Add(2*time.Minute))
		c.Title, c.Content = "焚烧秸秆冒烟", "村民在田里焚烧秸秆，烟很大。"
		d := event(fengqiao.SourceHotline12345, "D", "331081100010", base.Add(3*time.Minute))
		d.Title, d.Content = "秸秆焚烧", "还有人把生活垃圾倒在河边。"
		e := event(fengqiao.SourceHotline12345, "E", "331081100010", base.Add(4*time.Minute))
		e.Title, e.Content = "垃圾焚燒廠選址", "我們瞭解到選址離學校只有兩公里，在ＡＰＰ上反映過。"
		mustUpsert(t, idx, a, b, c, d, e)
		text := func(s string) *string { return &s }
		for _, tc := range []struct {
			name, text string
			want       []string
		}{
			{"every word is required, anywhere", "垃圾 焚烧", ids(e, d, a)},
			{"a word in no text finds nothing", "垃圾 噪音", nil},
			{"a quoted phrase is one string", `"垃圾焚烧"`, ids(e, a)},
			{"a phrase in full-width quotes", "“焚烧秸秆”", ids(c)},
			{"a phrase and a word", `“焚烧秸秆” 烟`, ids(c)},
			{"a phrase keeps its space", `"焚烧 秸秆"`, nil},
			{"one character", "烧", ids(e, d, c, a)},
			{"cut inside a phrase converted whole", "們瞭", ids(e)},
			{"simplified query, phrase converted whole", "了解到", ids(e)},
			{"half-width query, full-width text", "app", ids(e)},
		} {
			page, err := idx.Search(ctx, fengqiao.EventQuery{Filter: fengqiao.EventFilter{Text: text(tc.text)}, First: 10})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := pageIDs(page); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s: %s found %v, want %v", tc.name, tc.text, got, tc.want)
			}
		}
		for _, tc := range []struct{ text, want string }{
			{"垃圾焚烧", "关于泽国镇<mark>垃圾焚烧</mark>厂的咨询 | 听说要建<mark>垃圾焚烧</mark>发电厂，村民担心污染。"},
			{"垃圾 焚烧", "关于泽国镇<mark>垃圾焚烧</mark>厂的咨询 | 听说要建<mark>垃圾焚烧</mark>发电厂，村民担心污染。"},
			{"泽国镇 污染", "关于<mark>泽国镇</mark>垃圾焚烧厂的咨询 | 听说要建垃圾焚烧发电厂，村民担心<mark>污染</mark>。"},
		} {
			page, err := idx.Search(ctx, fengqiao.EventQuery{Filter: fengqiao.EventFilter{Text: &tc.text, Identifier: &a.SourceID}, First: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Highlights) != 1 || strings.Join(page.Highlights[0], " | ") != tc.want {
				t.Errorf("%s: highlights %q, want %s", tc.text, page.Highlights, tc.want)
			}
		}
		// Highlights show the text as written: traditional, full-width.
		page, err := idx.Search(ctx, fengqiao.EventQuery{Filter: fengqiao.EventFilter{Text: text("焚烧厂 了解 app上")}, First: 1})
		if err != nil {
			t.Fatal(err)
		}
		if want := "垃圾<mark>焚燒廠</mark>選址 | 我們<mark>瞭解</mark>到選址離學校只有兩公里，在<mark>ＡＰＰ上</mark>反映過。"; len(page.Highlights) != 1 || strings.Join(page.Highlights[0], " | ") != want {
			t.Errorf("highlights %q, want %s", page.Highlights, want)
		}
	})

	t.Run("HighlightsAreEscaped", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		a := event(fengqiao.SourceHotline12345, "XSS", "331081100010", base)
		a.Title = `噪音扰民<img src=x onerror="alert(1)">`
		a.Content = `夜间噪音<script>alert(document.cookie)</script>扰民 & "施工"`
		mustUpsert(t, idx, a)
		noise := "噪音"
		page, err := idx.Search(ctx, fengqiao.EventQuery{Filter: fengqiao.EventFilter{Text: &noise}, First: 10, ByRelevance: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Highlights) != 1 || len(page.Highlights[0]) == 0 {
			t.Fatalf("highlights = %q, want fragments of the one event", page.Highlights)
		}
		for _, frag := range page.Highlights[0] {
			bare := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(frag)
			if strings.ContainsAny(bare, `<>"`) || !strings.Contains(frag, "<mark>") {
				t.Errorf("fragment %q: want the citizen's text escaped and only <mark> as markup", frag)
			}
		}
	})

	t.Run("CockpitFilters", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		a := event(fengqiao.SourceMediation, "A", "331081100010", base)
		a.HandlingLevel, a.Status, a.Outcome = fengqiao.HandlingVillage, fengqiao.StatusResolved, "调解成功"
		b := event(fengqiao.SourceMediation, "B", "331081100010", base)
		b.HandlingLevel, b.Status = fengqiao.HandlingCounty, fengqiao.StatusInProgress
		due := base.Add(-time.Hour)
		b.Deadline = &due
		c := event(fengqiao.SourceSurvey, "C", "331081100010", base)
		c.Outcome, c.Kind = "满意", fengqiao.KindSurvey
		mustUpsert(t, idx, a, b, c)
		now := base
		for name, tc := range map[string]struct {
			f    fengqiao.EventFilter
			want int
		}{
			"handled in villages":  {fengqiao.EventFilter{HandlingLevels: []fengqiao.HandlingLevel{fengqiao.HandlingVillage, fengqiao.HandlingGrid}}, 1},
			"outcome":              {fengqiao.EventFilter{Outcomes: []string{"满意", "基本满意"}}, 1},
			"deadline passed":      {fengqiao.EventFilter{DeadlineBefore: &now}, 1},
			"deadline not reached": {fengqiao.EventFilter{DeadlineBefore: &due}, 0},
		} {
			if n := mustCount(t, idx, tc.f); n != tc.want {
				t.Errorf("%s: %d, want %d", name, n, tc.want)
			}
		}
		facets, err := idx.Facets(ctx, fengqiao.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(facets.Statuses) != "[{IN_PROGRESS 1} {RECEIVED 1} {RESOLVED 1}]" ||
			fmt.Sprint(facets.HandlingLevels) != "[{COUNTY 1} {VILLAGE 1}]" || len(facets.Kinds) != 2 {
			t.Errorf("facets = %+v", facets)
		}
	})

	t.Run("RankedPagesWalkEverythingOnce", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		var all []*fengqiao.Event
		for i := range 35 {
			e := event(fengqiao.SourceHotline12345, fmt.Sprintf("R%02d", i), "331081001003", base.Add(time.Duration(i)*time.Minute))
			e.Title = strings.Repeat("噪音", 1+i%3) + "扰民"
			all = append(all, e)
		}
		mustUpsert(t, idx, all...)
		seen := map[string]bool{}
		noise := "噪音"
		for after := ""; ; {
			page, err := idx.Search(ctx, fengqiao.EventQuery{Filter: fengqiao.EventFilter{Text: &noise}, First: 10, After: after, ByRelevance: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				if seen[e.ID] {
					t.Fatalf("%s ranked twice", e.ID)
				}
				seen[e.ID] = true
			}
			if !page.HasNext {
				break
			}
			after = page.Cursors[len(page.Cursors)-1]
		}
		if len(seen) != len(all) {
			t.Fatalf("ranked pages held %d events, want %d", len(seen), len(all))
		}
	})

	t.Run("PagesStayCorrectPast10000", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		const n = 10050
		for start := 0; start < n; start += 1000 {
			var batch []*fengqiao.Event
			for i := start; i < min(start+1000, n); i++ {
				batch = append(batch, event(fengqiao.SourceHotline12345, fmt.Sprintf("M%05d", i), "331081001003", base.Add(time.Duration(i)*time.Second)))
			}
			mustUpsert(t, idx, batch...)
		}
		seen := 0
		var last string
		for after := ""; ; {
			page, err := idx.Search(ctx, fengqiao.EventQuery{First: fengqiao.MaxPageSize, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				if last != "" && e.SourceID >= last {
					t.Fatalf("%s after %s: out of order", e.SourceID, last)
				}
				last = e.SourceID
				seen++
			}
			if !page.HasNext {
				break
			}
			after = page.Cursors[len(page.Cursors)-1]
		}
		if seen != n {
			t.Fatalf("walked %d events, want %d", seen, n)
		}
	})

	t.Run("PageSizeIsCapped", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		var all []*fengqiao.Event
		for i := range fengqiao.MaxPageSize + 5 {
			all = append(all, event(fengqiao.SourceHotline12345, fmt.Sprint(i), "331081001003", base))
		}
		mustUpsert(t, idx, all...)
		page, err := idx.Search(ctx, fengqiao.EventQuery{First: 100000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != fengqiao.MaxPageSize || !page.HasNext {
			t.Fatalf("got %d events, hasNext %v; want %d and true", len(page.Events), page.HasNext, fengqiao.MaxPageSize)
		}
		page, err = idx.Search(ctx, fengqiao.EventQuery{First: 0})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 0 || page.Total != len(all) {
			t.Fatalf("first 0: got %d events, total %d; want none and %d", len(page.Events), page.Total, len(all))
		}
	})

	t.Run("TooManyWordsAreInvalid", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		words := strings.Repeat("纠纷 ", 30) + "一 二 三 四 五 六 七 八 九 十 百"
		_, err := idx.Search(ctx, fengqiao.EventQuery{Filter: fengqiao.EventFilter{Text: &words}, First: 10})
		if fengqiao.ErrorCode(err) != fengqiao.EINVALID {
			t.Fatalf("12 words: err = %v, want EINVALID", err)
		}
		if _, err := idx.Count(ctx, fengqiao.EventFilter{Text: &words}); fengqiao.ErrorCode(err) != fengqiao.EINVALID {
			t.Fatalf("count of 12 words: err = %v, want EINVALID", err)
		}
		repeated := strings.Repeat("纠纷 ", 30)
		if _, err := idx.Count(ctx, fengqiao.EventFilter{Text: &repeated}); err != nil {
			t.Fatalf("one word thirty times: %v", err)
		}
	})

	t.Run("BadCursorIsInvalid", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		_, err := idx.Search(ctx, fengqiao.EventQuery{After: "%%%"})
		if fengqiao.ErrorCode(err) != fengqiao.EINVALID {
			t.Fatalf("bad cursor: err = %v, want EINVALID", err)
		}
	})
}

func event(src fengqiao.Source, sid, org string, at time.Time) *fengqiao.Event {
	return &fengqiao.Event{
		ID: fengqiao.EventID(src, sid), Source: src, SourceID: sid, Kind: fengqiao.KindRequest,
		Title: "测试事件" + sid, Content: "内容", Category: "其他", OccurredAt: at, ReportedAt: at,
		Status: fengqiao.StatusReceived, OrgCode: org, UpdatedAt: at,
		Parties: []fengqiao.Party{{Role: "来电人", Person: fengqiao.NewPerson("张"+sid, "", "13900000000", org)}},
	}
}

// appEvent is record sid of the long-tail app named app.
func appEvent(app, sid string, at time.Time) *fengqiao.Event {
	e := event(fengqiao.SourceApp, sid, "331081100201", at)
	e.App, e.ID = app, fengqiao.AppEventID(app, sid)
	return e
}

func ids(events ...*fengqiao.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.ID)
	}
	return out
}

func pageIDs(p *fengqiao.EventPage) []string { return ids(p.Events...) }

func mustUpsert(t *testing.T, idx fengqiao.Index, events ...*fengqiao.Event) {
	t.Helper()
	if err := idx.Upsert(context.Background(), events); err != nil {
		t.Fatal(err)
	}
}

func mustCount(t *testing.T, idx fengqiao.Index, f fengqiao.EventFilter) int {
	t.Helper()
	n, err := idx.Count(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
