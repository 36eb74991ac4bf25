package fengqiao_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fengqiao"
)

// day is midnight CST of a YYYY-MM-DD date.
func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation(time.DateOnly, s, fengqiao.CST)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// endOf is the last instant of a YYYY-MM-DD day in CST, as AddWorkingDays returns it.
func endOf(t *testing.T, s string) time.Time {
	t.Helper()
	return day(t, s).Add(24*time.Hour - time.Nanosecond)
}

func TestOfficialCalendarYears(t *testing.T) {
	t.Parallel()
	c := fengqiao.OfficialCalendar()
	if got, want := c.Years(), []int{2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026}; !slices.Equal(got, want) {
		t.Fatalf("Years = %v, want %v", got, want)
	}
	for _, y := range []int{2018, 2027} {
		if c.Covers(y) {
			t.Errorf("Covers(%d) = true", y)
		}
	}
	n := c.Notices(2026)
	if len(n) != 1 || !n[0].Date.Equal(day(t, "2025-11-04")) || !strings.Contains(n[0].Title, "关于2026年部分节假日安排的通知") {
		t.Fatalf("Notices(2026) = %+v", n)
	}
	if n := c.Notices(2020); len(n) != 2 || !strings.Contains(n[1].Title, "延长2020年春节假期") {
		t.Fatalf("Notices(2020) = %+v", n)
	}
}

// TestHolidaysPerNotice pins every holiday of every year to its notice: the first day
// off and the number of days (共N天), and every make-up working day. A year added to
// data/calendar.csv must be added here, transcribed from its notice a second time.
func TestHolidaysPerNotice(t *testing.T) {
	t.Parallel()
	type run struct {
		first string
		days  int
	}
	want := map[int]struct {
		holidays map[string]run
		workdays []string
	}{
		2019: {map[string]run{ // 国办发明电〔2018〕15号, Labour Day as adjusted on 2019-03-22
			"元旦": {"2018-12-30", 3}, "春节": {"2019-02-04", 7}, "清明节": {"2019-04-05", 1}, "劳动节": {"2019-05-01", 4},
			"端午节": {"2019-06-07", 1}, "中秋节": {"2019-09-13", 1}, "国庆节": {"2019-10-01", 7},
		}, []string{"2018-12-29", "2019-02-02", "2019-02-03", "2019-04-28", "2019-05-05", "2019-09-29", "2019-10-12"}},
		2020: {map[string]run{ // 国办发明电〔2019〕16号, Spring Festival extended to 2 February by 〔2020〕1号
			"元旦": {"2020-01-01", 1}, "春节": {"2020-01-24", 10}, "清明节": {"2020-04-04", 3}, "劳动节": {"2020-05-01", 5},
			"端午节": {"2020-06-25", 3}, "国庆节、中秋节": {"2020-10-01", 8},
		}, []string{"2020-01-19", "2020-04-26", "2020-05-09", "2020-06-28", "2020-09-27", "2020-10-10"}},
		2021: {map[string]run{
			"元旦": {"2021-01-01", 3}, "春节": {"2021-02-11", 7}, "清明节": {"2021-04-03", 3}, "劳动节": {"2021-05-01", 5},
			"端午节": {"2021-06-12", 3}, "中秋节": {"2021-09-19", 3}, "国庆节": {"2021-10-01", 7},
		}, []string{"2021-02-07", "2021-02-20", "2021-04-25", "2021-05-08", "2021-09-18", "2021-09-26", "2021-10-09"}},
		2022: {map[string]run{
			"元旦": {"2022-01-01", 3}, "春节": {"2022-01-31", 7}, "清明节": {"2022-04-03", 3}, "劳动节": {"2022-04-30", 5},
			"端午节": {"2022-06-03", 3}, "中秋节": {"2022-09-10", 3}, "国庆节": {"2022-10-01", 7},
		}, []string{"2022-01-29", "2022-01-30", "2022-04-02", "2022-04-24", "2022-05-07", "2022-10-08", "2022-10-09"}},
		2023: {map[string]run{
			"元旦": {"2022-12-31", 3}, "春节": {"2023-01-21", 7}, "清明节": {"2023-04-05", 1}, "劳动节": {"2023-04-29", 5},
			"端午节": {"2023-06-22", 3}, "中秋节、国庆节": {"2023-09-29", 8},
		}, []string{"2023-01-28", "2023-01-29", "2023-04-23", "2023-05-06", "2023-06-25", "2023-10-07", "2023-10-08"}},
		2024: {map[string]run{
			"元旦": {"2024-01-01", 1}, "春节": {"2024-02-10", 8}, "清明节": {"2024-04-04", 3}, "劳动节": {"2024-05-01", 5},
			"端午节": {"2024-06-10", 1}, "中秋节": {"2024-09-15", 3}, "国庆节": {"2024-10-01", 7},
		}, []string{"2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11", "2024-09-14", "2024-09-29", "2024-10-12"}},
		2025: {map[string]run{
			"元旦": {"2025-01-01", 1}, "春节": {"2025-01-28", 8}, "清明节": {"2025-04-04", 3}, "劳动节": {"2025-05-01", 5},
			"端午节": {"2025-05-31", 3}, "国庆节、中秋节": {"2025-10-01", 8},
		}, []string{"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"}},
		2026: {map[string]run{
			"元旦": {"2026-01-01", 3}, "春节": {"2026-02-15", 9}, "清明节": {"2026-04-04", 3}, "劳动节": {"2026-05-01", 5},
			"端午节": {"2026-06-19", 3}, "中秋节": {"2026-09-25", 3}, "国庆节": {"2026-10-01", 7},
		}, []string{"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"}},
	}
	c := fengqiao.OfficialCalendar()
	for _, year := range c.Years() {
		w, ok := want[year]
		if !ok {
			t.Errorf("%d is in data/calendar.csv but not in this test", year)
			continue
		}
		// A year's notice arranges the days from December of the year before (a New Year
		// break starting then) to the end of November; December's days off belong to the
		// next New Year.
		got := map[string]run{}
		var workdays []string
		prev := ""
		for d := day(t, "2000-12-01").AddDate(year-2001, 0, 0); d.Before(day(t, "2000-12-01").AddDate(year-2000, 0, 0)); d = d.AddDate(0, 0, 1) {
			name, off := c.Holiday(d)
			weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
			if off {
				r := got[name]
				if r.days == 0 {
					r.first = d.Format(time.DateOnly)
				} else if prev != name {
					t.Errorf("%d %s: the days off of %s are not one run", year, d.Format(time.DateOnly), name)
				}
				r.days++
				got[name] = r
				if c.IsWorkingDay(d) {
					t.Errorf("%s is a holiday and a working day", d.Format(time.DateOnly))
				}
			} else if weekend && c.IsWorkingDay(d) {
				workdays = append(workdays, d.Format(time.DateOnly))
			} else if !weekend && !c.IsWorkingDay(d) {
				t.Errorf("%s is a weekday off but no holiday", d.Format(time.DateOnly))
			}
			prev = name
		}
		for name, r := range w.holidays {
			if got[name] != r {
				t.Errorf("%d %s: got first day %q and %d days, want %q and %d", year, name, got[name].first, got[name].days, r.first, r.days)
			}
		}
		for name := range got {
			if _, ok := w.holidays[name]; !ok {
				t.Errorf("%d: unexpected holiday %q %+v", year, name, got[name])
			}
		}
		if !slices.Equal(workdays, w.workdays) {
			t.Errorf("%d make-up working days = %v, want %v", year, workdays, w.workdays)
		}
	}
	for year := range want {
		if !c.Covers(year) {
			t.Errorf("%d is in this test but not in data/calendar.csv", year)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	t.Parallel()
	c := fengqiao.OfficialCalendar()
	for _, tc := range []struct {
		from string // a time, RFC 3339
		n    int
		want string // the deadline's day
		why  string
	}{
		{"2025-09-30T16:20:00+08:00", 3, "2025-10-11", "National Day+Mid-Autumn 2025: Oct 1–8 off; Oct 9, 10 and the make-up Saturday Oct 11"},
		{"2025-09-30T16:20:00+08:00", 2, "2025-10-10", "Oct 9 and 10"},
		{"2025-09-30T16:20:00+08:00", 4, "2025-10-13", "the Sunday after the make-up Saturday is off"},
		{"2025-09-26T09:00:00+08:00", 1, "2025-09-28", "the make-up Sunday Sep 28 counts, the Saturday before does not"},
		{"2025-10-03T11:00:00+08:00", 1, "2025-10-09", "accepted during the holiday: counting starts after it"},
		{"2025-09-29T23:59:59+08:00", 1, "2025-09-30", "the day of acceptance never counts, however late"},
		{"2025-09-29T16:30:00Z", 1, "2025-10-09", "16:30 UTC on Sep 29 is Sep 30 in China"},
		{"2024-02-02T10:00:00+08:00", 1, "2024-02-04", "Spring Festival 2024: the make-up Sunday Feb 4"},
		{"2024-02-08T10:00:00+08:00", 2, "2024-02-18", "除夕 Feb 9 is a working day, Feb 10–17 off, the make-up Sunday Feb 18"},
		{"2024-02-09T10:00:00+08:00", 1, "2024-02-18", "the first working day after the break is the make-up Sunday"},
		{"2024-02-18T10:00:00+08:00", 1, "2024-02-19", ""},
		{"2025-12-31T10:00:00+08:00", 1, "2026-01-04", "New Year 2026: Jan 1–3 off, the make-up Sunday Jan 4"},
		{"2026-02-13T10:00:00+08:00", 1, "2026-02-14", "Spring Festival 2026: the make-up Saturday Feb 14"},
		{"2026-02-14T10:00:00+08:00", 1, "2026-02-24", "Feb 15–23 off"},
		{"2026-02-13T10:00:00+08:00", 5, "2026-02-27", "Feb 14, 24, 25, 26, 27"},
		{"2026-02-13T10:00:00+08:00", 6, "2026-02-28", "and the make-up Saturday Feb 28"},
		{"2026-09-30T10:00:00+08:00", 3, "2026-10-10", "National Day 2026: Oct 1–7 off; Oct 8, 9 and the make-up Saturday Oct 10"},
		{"2026-09-18T10:00:00+08:00", 1, "2026-09-20", "the make-up Sunday Sep 20"},
		{"2026-09-24T10:00:00+08:00", 1, "2026-09-28", "Mid-Autumn 2026: Sep 25–27 off"},
		{"2022-12-30T10:00:00+08:00", 1, "2023-01-03", "New Year 2023 began on 2022-12-31, listed by the 2023 notice"},
		{"2020-01-23T10:00:00+08:00", 1, "2020-02-03", "2020's Spring Festival extended to Feb 2: the make-up Saturday Feb 1 was cancelled"},
		{"2025-09-30T16:20:00+08:00", 0, "2025-09-30", "n = 0 is the end of the day itself"},
		{"2025-10-02T16:20:00+08:00", -2, "2025-10-02", "so is n < 0"},
	} {
		from, err := time.Parse(time.RFC3339, tc.from)
		if err != nil {
			t.Fatal(err)
		}
		got := c.AddWorkingDays(from, tc.n)
		if want := endOf(t, tc.want); !got.Equal(want) || got.Location() != fengqiao.CST {
			t.Errorf("AddWorkingDays(%s, %d) = %s, want %s (%s)", tc.from, tc.n, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano), tc.why)
		}
		if tc.n >= 0 {
			if got := c.WorkingDaysBetween(from, c.AddWorkingDays(from, tc.n)); got != tc.n {
				t.Errorf("WorkingDaysBetween(%s, its deadline) = %d, want %d", tc.from, got, tc.n)
			}
		}
	}
	// The deadline is the last instant of its day: done at 23:59:59 is on time, at
	// midnight is late.
	due := c.AddWorkingDays(day(t, "2025-09-30"), 3)
	if time.Date(2025, 10, 11, 23, 59, 59, 0, fengqiao.CST).After(due) || !time.Date(2025, 10, 12, 0, 0, 0, 0, fengqiao.CST).After(due) {
		t.Fatalf("deadline %s is not the end of 2025-10-11", due.Format(time.RFC3339Nano))
	}
}

func TestIsWorkingDay(t *testing.T) {
	t.Parallel()
	c := fengqiao.OfficialCalendar()
	for s, want := range map[string]bool{
		"2025-10-11": true,  // make-up Saturday
		"2025-09-28": true,  // make-up Sunday
		"2025-10-08": false, // Wednesday off
		"2025-10-12": false, // ordinary Sunday
		"2024-02-09": true,  // 除夕 2024, a Friday, not a day off
		"2025-01-28": false, // 除夕 2025, a day off since the 2024 revision
		"2026-02-28": true,  // make-up Saturday
		"2026-04-06": false, // Monday off (Qingming)
		"2026-04-07": true,
		"2018-12-29": true,  // make-up Saturday of 2018, listed by the 2019 notice
		"2018-12-31": false, // Monday off, ditto
		"2020-02-01": false, // the cancelled make-up Saturday
		"2020-02-03": true,
	} {
		if got := c.IsWorkingDay(day(t, s)); got != want {
			t.Errorf("IsWorkingDay(%s) = %v, want %v", s, got, want)
		}
	}
	// The day is China's, whatever the location of the time.
	if c.IsWorkingDay(time.Date(2025, 9, 30, 17, 0, 0, 0, time.UTC)) { // 01:00 on Oct 1 in China
		t.Error("17:00 UTC on 2025-09-30 counted as a working day")
	}
	if !c.IsWorkingDay(time.Date(2025, 10, 8, 16, 0, 0, 0, time.UTC)) { // 00:00 on Oct 9 in China
		t.Error("16:00 UTC on 2025-10-08 not counted as a working day")
	}
	if name, ok := c.Holiday(day(t, "2025-10-06")); !ok || name != "国庆节、中秋节" {
		t.Errorf("Holiday(2025-10-06) = %q, %v", name, ok)
	}
	if name, ok := c.Holiday(day(t, "2025-10-12")); ok {
		t.Errorf("Holiday(2025-10-12), an ordinary Sunday = %q", name)
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	t.Parallel()
	c := fengqiao.OfficialCalendar()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2025-09-30", "2025-10-11", 3},
		{"2025-10-11", "2025-09-30", -3},
		{"2025-10-01", "2025-10-08", 0},
		{"2025-10-09", "2025-10-09", 0},
		{"2024-02-08", "2024-02-19", 3}, // Feb 9, 18, 19
		{"2025-12-31", "2026-12-31", 248},
	} {
		if got := c.WorkingDaysBetween(day(t, tc.a), day(t, tc.b)); got != tc.want {
			t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	// Over the whole covered span: the deadline is a working day, and the count back to
	// it is n.
	for from := day(t, "2018-12-20"); from.Year() < 2027; from = from.AddDate(0, 0, 3) {
		for _, n := range []int{1, 3, 5, 10, 15} {
			due := c.AddWorkingDays(from, n)
			if !c.IsWorkingDay(due) || c.WorkingDaysBetween(from, due) != n || c.WorkingDaysBetween(due, from) != -n {
				t.Fatalf("from %s, %d working days: deadline %s", from.Format(time.DateOnly), n, due.Format(time.RFC3339))
			}
		}
	}
}

func TestUncoveredYearFallsBackToMondayToFriday(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]*fengqiao.Calendar{"official": fengqiao.OfficialCalendar(), "nil": nil} {
		if c.Covers(2027) {
			t.Fatalf("%s: Covers(2027)", name)
		}
		// 2027-01-01 is a Friday: without the 2027 notice it counts as a working day.
		if !c.IsWorkingDay(day(t, "2027-01-01")) || c.IsWorkingDay(day(t, "2027-01-02")) {
			t.Errorf("%s: 2027-01-01/02 not Monday–Friday", name)
		}
		from := day(t, "2026-12-31")
		due := c.AddWorkingDays(from, 3)
		if !due.Equal(endOf(t, "2027-01-05")) {
			t.Errorf("%s: 3 working days from 2026-12-31 = %s, want the end of 2027-01-05", name, due)
		}
		want := []int{2027}
		if c == nil {
			want = []int{2026, 2027}
		}
		if got := c.Uncovered(due, from); !slices.Equal(got, want) {
			t.Errorf("%s: Uncovered = %v", name, got)
		}
		if w := c.CoverageWarning(from, due); !strings.Contains(w, "2027") || !strings.Contains(w, "周一至周五") {
			t.Errorf("%s: CoverageWarning = %q", name, w)
		}
	}
	c := fengqiao.OfficialCalendar()
	if w := c.CoverageWarning(day(t, "2025-09-30"), day(t, "2026-10-10")); w != "" {
		t.Errorf("covered span warns %q", w)
	}
}

const calendar2027 = `year,date,kind,name
2027,2026-11-02,notice,假想的2027年通知（测试用）
2027,2027-01-01,holiday,元旦
2027,2027-01-02,holiday,元旦
2027,2027-01-03,holiday,元旦
2027,2027-01-09,workday,元旦
`

func TestOverrideAddsAndReplacesYears(t *testing.T) {
	t.Parallel()
	op, err := fengqiao.LoadCalendar(strings.NewReader(calendar2027 +
		"2026,2026-01-05,notice,更正的2026年安排（测试用）\n2026,2026-10-09,holiday,国庆节\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := fengqiao.OfficialCalendar().Override(op)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Covers(2027) || !c.Covers(2025) || len(c.Notices(2026)) != 1 || !strings.Contains(c.Notices(2026)[0].Title, "更正") {
		t.Fatalf("years %v, 2026 notices %+v", c.Years(), c.Notices(2026))
	}
	if c.IsWorkingDay(day(t, "2027-01-01")) || !c.IsWorkingDay(day(t, "2027-01-09")) {
		t.Error("2027 from the operator's file not applied")
	}
	// 2026 is replaced whole: its official days are gone, the operator's is in.
	if !c.IsWorkingDay(day(t, "2026-10-02")) || c.IsWorkingDay(day(t, "2026-10-09")) || c.IsWorkingDay(day(t, "2026-10-10")) {
		t.Error("2026 not replaced by the operator's file")
	}
	if !fengqiao.OfficialCalendar().Covers(2026) || fengqiao.OfficialCalendar().Covers(2027) || fengqiao.OfficialCalendar().IsWorkingDay(day(t, "2026-10-02")) {
		t.Error("Override changed the official calendar")
	}
	// A date claimed by two years' notices is refused: 2022-12-31 is in the 2023 notice.
	clash, err := fengqiao.LoadCalendar(strings.NewReader("2022,2021-10-25,notice,x\n2022,2022-12-31,holiday,元旦\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fengqiao.OfficialCalendar().Override(clash); err == nil || !strings.Contains(fengqiao.ErrorMessage(err), "2022-12-31 已由 2023 年的通知列出") {
		t.Errorf("clash: %v", err)
	}
}

func TestLoadCalendarErrors(t *testing.T) {
	t.Parallel()
	const notice = "year,date,kind,name\n2027,2026-11-02,notice,通知\n"
	for _, tc := range []struct {
		name, file, want string
	}{
		{"fields", notice + "2027,2027-01-01,holiday\n", "第 3 行：应有 4 列"},
		{"year", notice + "27,2027-01-01,holiday,元旦\n", "第 3 行：年份 \"27\""},
		{"date format slashes", notice + "2027,2027/01/01,holiday,元旦\n", "第 3 行：日期 \"2027/01/01\" 的格式不认识"},
		{"date format short", notice + "2027,2027-1-1,holiday,元旦\n", "第 3 行：日期 \"2027-1-1\" 的格式不认识"},
		{"date impossible", notice + "2027,2027-02-30,holiday,春节\n", "第 3 行：日期 \"2027-02-30\" 的格式不认识"},
		{"kind", notice + "2027,2027-01-01,off,元旦\n", "第 3 行：类型 \"off\" 不认识"},
		{"name", notice + "2027,2027-01-01,holiday,\n", "第 3 行：缺少名称"},
		{"wrong year", notice + "2027,2028-01-01,holiday,元旦\n", "第 3 行：日期 2028-01-01 不属于 2027 年的安排"},
		{"previous year not December", notice + "2027,2026-11-30,holiday,元旦\n", "第 3 行：日期 2026-11-30 不属于 2027 年的安排"},
		{"twice", notice + "2027,2027-01-01,holiday,元旦\n\n2027,2027-01-01,holiday,元旦\n", "第 5 行：日期 2027-01-01 重复，第 3 行已经列过"},
		{"make-up day on a weekday", notice + "2027,2027-01-04,workday,元旦\n", "第 3 行：调休上班日 2027-01-04 是星期一，不是周六或周日"},
		{"holiday on a make-up day", notice + "2027,2027-01-09,workday,元旦\n2027,2027-01-09,holiday,元旦\n", "第 4 行：2027-01-09 在第 3 行是调休上班日（元旦），不能同时是放假日"},
		{"make-up day on a holiday", notice + "2027,2027-01-09,holiday,元旦\n2027,2027-01-09,workday,元旦\n", "第 4 行：2027-01-09 在第 3 行是放假日（元旦），不能同时是调休上班日"},
		{"no notice", notice + "# 2028\n2028,2028-01-01,holiday,元旦\n", "第 4 行：2028 年列了放假或调休日期，却没有 notice 行"},
		{"empty", "year,date,kind,name\n# nothing yet\n", "没有任何年份"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fengqiao.LoadCalendar(strings.NewReader(tc.file))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if fengqiao.ErrorCode(err) != fengqiao.EINVALID || !strings.Contains(fengqiao.ErrorMessage(err), tc.want) {
				t.Fatalf("error %v, want EINVALID containing %q", err, tc.want)
			}
		})
	}
	// A byte-order mark, spaces around fields and CRLF line ends are fine.
	c, err := fengqiao.LoadCalendar(strings.NewReader("\ufeffyear,date,kind,name\r\n 2027 , 2026-11-02 , notice , 通知, 含逗号\r\n2027,2027-01-09,workday,元旦\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Covers(2027) || !c.IsWorkingDay(day(t, "2027-01-09")) || c.Notices(2027)[0].Title != "通知, 含逗号" {
		t.Fatalf("lenient parse: %+v", c.Notices(2027))
	}
}
