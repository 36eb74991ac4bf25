package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"fengqiao"
	"fengqiao/cockpit"
	"fengqiao/orders"
)

// getReport asks the hub for a monthly bulletin.
func getReport(t *testing.T, base, token, query string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/reports/monthly"+query, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// sheetRows reads a sheet's raw values.
func sheetRows(t *testing.T, f *excelize.File, sheet string) [][]string {
	t.Helper()
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("sheet %s: %v", sheet, err)
	}
	return rows
}

// byHeader reads the rows under a header row (the first, unless at says) into
// maps by the header's names, keyed by their first cell, until a short row.
func byHeader(t *testing.T, rows [][]string, at int, header []string) map[string]map[string]string {
	t.Helper()
	if !slices.Equal(rows[at][:min(len(rows[at]), len(header))], header) {
		t.Fatalf("header %v, want %v", rows[at], header)
	}
	out := map[string]map[string]string{}
	for _, r := range rows[at+1:] {
		if len(r) < len(header) {
			break
		}
		m := map[string]string{}
		for i, h := range header {
			m[h] = r[i]
		}
		out[r[0]] = m
	}
	return out
}

// cockpitMonth is what the cockpit's GraphQL query answers for a unit's month.
type cockpitMonth struct {
	Total, FirstReports, MediationAccepted, MediationSettled       int
	MediationRate, OnSiteRate, FirstResolvedRate, SatisfactionRate *float64
	Facets                                                         struct {
		Sources []struct {
			Value string
			Count int
		}
	}
}

func (c cockpitMonth) source(s fengqiao.Source) int {
	for _, f := range c.Facets.Sources {
		if f.Value == string(s) {
			return f.Count
		}
	}
	return 0
}

// TestMonthlyBulletin downloads the county's bulletin of this month from a demo
// hub with a commander's token and checks every town's figures and the total
// against the cockpit's GraphQL answer, computed apart (by day, not by month, so
// not from the same cache entry), and the 工单 sheet against orders.Service after
// issuing an order; then the refusals, the audit, and the CLI.
func TestMonthlyBulletin(t *testing.T) {
	t.Parallel()
	base, tokens, hub := startDemoHub(t)
	ctx := context.Background()
	now := time.Now().In(fengqiao.CST)
	monthText := now.Format("2006-01")
	from, _ := cockpit.ParseMonth(monthText)
	to, last := from.AddDate(0, 1, 0), from.AddDate(0, -1, 0)

	// An order of the month, from the county to 泽国镇, on one of its court filings
	// (an upstream that takes no work, so nothing the figures count changes).
	// One in a chain: hubSubjects (orders.go) does not yet take an event in none.
	var found struct {
		Events struct {
			Edges []struct {
				Node struct {
					ID    string
					Chain *struct{ ID string }
				}
			}
		}
	}
	graphQL(t, base, tokens["county"], `{ events(filter: {orgCode: "331081100", sources: [COURT]}, first: 100) { edges { node { id chain { id } } } } }`, &found)
	subject := ""
	for _, e := range found.Events.Edges {
		if e.Node.Chain != nil && subject == "" {
			subject = e.Node.ID
		}
	}
	if subject == "" {
		t.Fatal("no chained court filing in 泽国镇")
	}
	commander := fengqiao.WithPrincipal(ctx, &fengqiao.Principal{ID: "county-commander", Name: "指挥长", Role: fengqiao.RoleCommander, OrgCode: "331081"})
	order, err := hub.Orders.Issue(commander, orders.IssueInput{RequestID: "bulletin-1", Kind: fengqiao.OrderSupervise, AddresseeOrg: "331081100",
		Subject: fengqiao.OrderSubject{Kind: fengqiao.SubjectEvent, ID: subject}, WorkingDays: 5, Listed: fengqiao.ListedCounty})
	if err != nil {
		t.Fatal(err)
	}

	resp, body := getReport(t, base, tokens["county"], "?org=331081&month="+monthText)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != xlsxType {
		t.Fatalf("%s %s: %s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if want := "每月通报-温岭市-" + monthText + ".xlsx"; err != nil || params["filename"] != want {
		t.Errorf("Content-Disposition %q: file name %q, want %q (%v)", resp.Header.Get("Content-Disposition"), params["filename"], want, err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"概况", "分镇街", "工单"}) {
		t.Fatalf("sheets %v", got)
	}

	// 分镇街: each town and the county's total, against the cockpit.
	units := byHeader(t, sheetRows(t, f, "分镇街"), 0, cockpit.UnitsHeader)
	county := hub.Tree.Root()
	if len(units) != len(county.Children())+1 {
		t.Fatalf("%d rows for %d towns and the total", len(units), len(county.Children()))
	}
	const q = `query($org: ID, $from: Time!, $to: Time!, $lastFrom: Time!) {
		this: cockpit(orgCode: $org, from: $from, to: $to, granularity: DAY) { ...f }
		last: cockpit(orgCode: $org, from: $lastFrom, to: $from, granularity: DAY) { ...f } }
		fragment f on CockpitFigures { total firstReports mediationAccepted mediationSettled mediationRate onSiteRate firstResolvedRate satisfactionRate
			facets { sources { value count } } }`
	var sums [2]int
	for _, u := range append([]*fengqiao.OrgUnit{county}, county.Children()...) {
		row := units[u.Code]
		if row == nil {
			t.Errorf("no row for %s %s", u.Code, u.Name)
			continue
		}
		var c struct{ This, Last cockpitMonth }
		graphQLVars(t, base, tokens["county"], q, map[string]any{"org": u.Code, "from": from, "to": to, "lastFrom": last}, &c)
		counts := map[string][2]int{
			"110纠纷类警情": {c.This.source(fengqiao.SourcePolice110), c.Last.source(fengqiao.SourcePolice110)},
			"法院民商事立案":  {c.This.source(fengqiao.SourceCourt), c.Last.source(fengqiao.SourceCourt)},
			"初次反映":     {c.This.FirstReports, c.Last.FirstReports},
			"12345诉求":  {c.This.source(fengqiao.SourceHotline12345), c.Last.source(fengqiao.SourceHotline12345)},
		}
		for name, n := range counts {
			if row[name] != strconv.Itoa(n[0]) || row[name+"（上月）"] != strconv.Itoa(n[1]) || !sameRate(row[name+"环比"], cockpit.Change(n[0], n[1])) {
				t.Errorf("%s %s: %s, last month %s, change %s; the cockpit's %d, %d", u.Name, name, row[name], row[name+"（上月）"], row[name+"环比"], n[0], n[1])
			}
		}
		for name, v := range map[string]int{"矛盾纠纷受理": c.This.MediationAccepted, "矛盾纠纷化解": c.This.MediationSettled, "事件总量": c.This.Total} {
			if row[name] != strconv.Itoa(v) {
				t.Errorf("%s %s: %s, the cockpit's %d", u.Name, name, row[name], v)
			}
		}
		for name, v := range map[string]*float64{"调处率": c.This.MediationRate, "就地化解率": c.This.OnSiteRate, "初次反映化解率": c.This.FirstResolvedRate, "满意率": c.This.SatisfactionRate} {
			if !sameRate(row[name], v) {
				t.Errorf("%s %s: %s, the cockpit's %v", u.Name, name, row[name], v)
			}
		}
		if u != county {
			sums[0] += c.This.Total
		} else {
			sums[1] = c.This.Total
			// 概况 shows the county's own figures of the two months.
			summary := sheetRows(t, f, "概况")
			found := 0
			for _, r := range summary {
				if len(r) >= 4 && r[0] == "110纠纷类警情" {
					found++
					if n := counts["110纠纷类警情"]; r[1] != strconv.Itoa(n[0]) || r[2] != strconv.Itoa(n[1]) {
						t.Errorf("概况 %v, the cockpit's %v", r, n)
					}
				}
				if len(r) >= 4 && r[0] == "事件总量" {
					found++
					if r[1] != strconv.Itoa(c.This.Total) || r[2] != strconv.Itoa(c.Last.Total) {
						t.Errorf("概况 %v, the cockpit's %d, %d", r, c.This.Total, c.Last.Total)
					}
				}
			}
			if found != 2 {
				t.Errorf("概况 lacks its lines: %v", summary)
			}
		}
	}
	if total := units[county.Code]; total["110纠纷类警情"] == "0" || total["12345诉求"] == "0" || total["法院民商事立案"] == "0" {
		t.Errorf("the month's figures are empty: %v", total)
	}
	if sums[1] == 0 || sums[0] > sums[1] {
		t.Errorf("the towns' totals add up to %d, the county's is %d", sums[0], sums[1])
	}

	// 工单: the figures of the county and each town, then the month's orders.
	rows := sheetRows(t, f, "工单")
	figures := byHeader(t, rows, 0, cockpit.OrderFiguresHeader)
	for _, u := range append([]*fengqiao.OrgUnit{county}, county.Children()...) {
		want, err := hub.Orders.Figures(u.Code, from, to)
		if err != nil {
			t.Fatal(err)
		}
		row := figures[u.Code]
		got := [7]string{row["交办督办"], row["按期办结"], row["逾期"], row["退回重办"], row["已销号"], row["挂牌督办"], row["在办"]}
		if exp := [7]int{want.Issued, want.OnTime, want.Overdue, want.Returned, want.Closed, want.Listed, want.Open}; got != [7]string{
			strconv.Itoa(exp[0]), strconv.Itoa(exp[1]), strconv.Itoa(exp[2]), strconv.Itoa(exp[3]), strconv.Itoa(exp[4]), strconv.Itoa(exp[5]), strconv.Itoa(exp[6])} {
			t.Errorf("orders of %s: %v, orders.Service's %+v", u.Name, got, want)
		}
		if u.Code == "331081100" && want.Issued == 0 {
			t.Errorf("泽国镇's figures miss the order: %+v", want)
		}
	}
	at := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "解纷码" })
	if at < 0 {
		t.Fatalf("no list of orders: %v", rows)
	}
	listed := byHeader(t, rows, at, cockpit.OrdersHeader)
	want, err := hub.Orders.Orders(commander, orders.OrderFilter{OrgCode: "331081", From: &from, To: &to}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range listed {
		ids = append(ids, r["工单号"])
	}
	var wantIDs []string
	for _, o := range want {
		wantIDs = append(wantIDs, o.ID)
	}
	slices.Sort(ids)
	slices.Sort(wantIDs)
	if !slices.Equal(ids, wantIDs) || !slices.Contains(ids, order.ID) {
		t.Errorf("listed orders %v, orders.Service's %v", ids, wantIDs)
	}
	for _, r := range listed {
		if r["工单号"] == order.ID && (r["解纷码"] != order.Code || r["类型"] != "督办" || r["受理单位"] != "温岭市泽国镇" ||
			r["状态"] != "办理中" || r["是否挂牌"] != "县级挂牌" || r["是否逾期"] != "否") {
			t.Errorf("the order's row %v", r)
		}
	}

	// The export is audited.
	action := "导出每月通报"
	entries, _, err := hub.Audit.Entries(ctx, fengqiao.AuditFilter{Action: &action}, 0, 10)
	if err != nil || len(entries) == 0 || entries[0].Subject != "331081 "+monthText || entries[0].Role != fengqiao.RoleCommander {
		t.Errorf("audit %+v %v", entries, err)
	}

	// A town analyst gets the own town's bulletin without naming it, by village.
	resp, body = getReport(t, base, tokens["town"], "?month="+monthText)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("town analyst: %s %s", resp.Status, body)
	}
	if tf, err := excelize.OpenReader(bytes.NewReader(body)); err != nil || !slices.Contains(tf.GetSheetList(), "分村社") {
		t.Errorf("the town's workbook: %v", err)
	}

	// Refusals, in Chinese, in the gateway's shape.
	townCommander, err := hub.Tokens.Issue(fengqiao.Principal{ID: "zeguo", Name: "泽国镇指挥长", Role: fengqiao.RoleCommander, OrgCode: "331081100"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, token, query string
		status             int
		says               string
	}{
		{"another town", townCommander, "?org=331081101&month=" + monthText, 404, "不在您的管辖范围内"},
		{"the county above", townCommander, "?org=331081&month=" + monthText, 404, "不在您的管辖范围内"},
		{"no such unit", tokens["county"], "?org=999&month=" + monthText, 404, "组织单元不存在"},
		{"grid staff", tokens["village"], "?month=" + monthText, 403, "仅限指挥长、研判分析员"},
		{"auditor", tokens["auditor"], "?month=" + monthText, 403, "仅限指挥长、研判分析员"},
		{"operator", tokens["operator"], "?month=" + monthText, 403, "仅限"},
		{"no token", "", "?month=" + monthText, 401, "未提供身份令牌"},
		{"no month", tokens["county"], "?org=331081", 400, "请用 month=YYYY-MM"},
		{"month 13", tokens["county"], "?month=2026-13", 400, "月份应在 01 到 12 之间"},
		{"not a month", tokens["county"], "?month=十月", 400, "月份格式有误"},
		{"a month to come", tokens["county"], "?month=" + now.AddDate(0, 2, 0).Format("2006-01"), 400, "尚未开始"},
	} {
		resp, body := getReport(t, base, c.token, c.query)
		var r struct{ Errors []struct{ Message string } }
		json.Unmarshal(body, &r)
		if resp.StatusCode != c.status || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, c.says) {
			t.Errorf("%s: %s %s; want %d saying %s", c.name, resp.Status, body, c.status, c.says)
		}
	}

	// The CLI downloads the same workbook from the running hub.
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte(tokens["county"]+"\n"), 0o600)
	out := filepath.Join(dir, "bulletin.xlsx")
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	if err := m.Run(ctx, []string{"report", "monthly", "-addr", strings.TrimPrefix(base, "http://"), "-token", "@" + tokenFile,
		"-org", "331081100", "-month", monthText, "-o", out}); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	cf, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	if !slices.Contains(cf.GetSheetList(), "分村社") || !strings.Contains(stdout.String(), out) {
		t.Errorf("the CLI's workbook: sheets %v, said %q", cf.GetSheetList(), stdout.String())
	}
	// …and says the hub's refusal.
	err = m.Run(ctx, []string{"report", "monthly", "-addr", strings.TrimPrefix(base, "http://"), "-token", townCommander,
		"-org", "331081101", "-month", monthText, "-o", out})
	if err == nil || !strings.Contains(err.Error(), "不在您的管辖范围内") {
		t.Errorf("the CLI, another town: %v", err)
	}
}

// sameRate reports whether a cell holds rate r, or — for none.
func sameRate(cell string, r *float64) bool {
	if r == nil {
		return cell == "—"
	}
	v, err := strconv.ParseFloat(cell, 64)
	return err == nil && v-*r < 1e-9 && *r-v < 1e-9
}

// TestReportMonthlyHelp: `fengqiao report monthly -h` prints its usage in
// Chinese and exits 0, as a process.
func TestReportMonthlyHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"report", "monthly", "-h"}, {"report", "-h"}} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), childArgs+"="+strings.Join(args, "\n"))
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "每月通报") || !strings.Contains(string(out), "用法") {
			t.Errorf("fengqiao %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[1] == "monthly" && !strings.Contains(string(out), "-month") {
			t.Errorf("fengqiao report monthly -h lists no flags:\n%s", out)
		}
	}
	var stderr bytes.Buffer
	err := (&Main{Stdout: io.Discard, Stderr: &stderr}).Run(context.Background(), []string{"report", "monthly", "-token", "x", "-month", "2026-13"})
	if err == nil || !strings.Contains(err.Error(), "01 到 12") {
		t.Errorf("a bad month: %v", err)
	}
}
