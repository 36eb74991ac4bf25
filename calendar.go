package fengqiao

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The working-day calendar: the official holidays and make-up working days (调休上班)
// of each year the State Council General Office has published (国务院办公厅《关于××××年
// 部分节假日安排的通知》), so that deadlines counted in working days (工作日) skip the
// National Day week and count a make-up Saturday. The years live in data/calendar.csv,
// embedded in the binary; docs/operations.md says how to add a year.

//go:embed data/calendar.csv
var officialCalendarCSV string

// CalendarNotice is one State Council General Office notice a year of the calendar
// comes from: the yearly 部分节假日安排的通知, and any later notice that changed it (the
// 2019 Labour Day adjustment, the 2020 Spring Festival extension).
type CalendarNotice struct {
	Year  int       // the year the notice arranges
	Date  time.Time // the notice's date, midnight CST
	Title string    // its title and document number
}

// calendarDay is a date the notices set apart from the Monday–Friday week.
type calendarDay struct {
	year    int    // the year whose notice lists it
	holiday bool   // a day off (放假), else a make-up working day (调休上班)
	name    string // the holiday, as the notice names it
	line    int    // its line in the file it was read from
}

// Calendar is the Chinese official working-day calendar: Monday to Friday are working
// days, Saturday and Sunday are not, except as the notices of the years it covers
// say — a holiday day off is not a working day, a make-up Saturday or Sunday is.
// Dates are days in China time (CST, UTC+8). A Calendar is read-only once loaded and
// safe for concurrent use.
//
// For a date in a year it does not cover (Covers false: no notice loaded, typically
// the next year before the State Council publishes it around November), the
// calendar falls back to Monday–Friday — a deadline that crosses New Year's Day or the
// Spring Festival of such a year comes out too early. It never fails or panics for
// that; Uncovered and CoverageWarning say when it happened so the hub can log it.
// The nil *Calendar is that fallback everywhere.
type Calendar struct {
	days    map[int]calendarDay // by dayKey
	notices map[int][]CalendarNotice
}

var officialCalendar = sync.OnceValue(func() *Calendar {
	c, err := LoadCalendar(strings.NewReader(officialCalendarCSV))
	if err != nil {
		panic(err) // the embedded file is part of the binary; a failure is a build bug
	}
	return c
})

// OfficialCalendar returns the calendar of data/calendar.csv, embedded in the binary:
// every year from 2019 through the latest notice published when it was built.
func OfficialCalendar() *Calendar { return officialCalendar() }

// LoadCalendar reads a calendar file in the format of data/calendar.csv: lines
// year,date,kind,name after an optional header line "year,date,kind,name", with blank
// lines and lines starting with # ignored. kind is notice (date is the notice's date,
// name its title; at least one per year), holiday (a day off, name the holiday) or
// workday (a make-up working day, which must be a Saturday or Sunday). Dates are
// YYYY-MM-DD; a holiday or workday belongs to the year's own dates or to the December
// before it (a New Year break that starts in the old year). A malformed line, a date
// listed twice, a make-up day on a weekday, a holiday on a make-up day or a year
// without a notice is an EINVALID error naming the line.
func LoadCalendar(r io.Reader) (*Calendar, error) {
	c := &Calendar{days: map[int]calendarDay{}, notices: map[int][]CalendarNotice{}}
	firstDay := map[int]int{} // year → line of its first holiday or workday
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			text = strings.TrimSpace(strings.TrimPrefix(text, "\ufeff"))
		}
		if text == "" || strings.HasPrefix(text, "#") || strings.ReplaceAll(text, " ", "") == "year,date,kind,name" {
			continue
		}
		f := strings.SplitN(text, ",", 4)
		if len(f) != 4 {
			return nil, calendarErr(line, "应有 4 列 year,date,kind,name，实有 %d 列", len(f))
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		year, err := strconv.Atoi(f[0])
		if err != nil || len(f[0]) != 4 || year < 1949 {
			return nil, calendarErr(line, "年份 %q 不是四位数字的年份", f[0])
		}
		date, err := time.ParseInLocation(time.DateOnly, f[1], CST)
		if err != nil || len(f[1]) != len(time.DateOnly) {
			return nil, calendarErr(line, "日期 %q 的格式不认识，应写成 YYYY-MM-DD（如 2026-10-01）", f[1])
		}
		kind, name := f[2], f[3]
		if name == "" {
			return nil, calendarErr(line, "缺少名称（notice 写通知标题，holiday 和 workday 写节日名称）")
		}
		switch kind {
		case "notice":
			c.notices[year] = append(c.notices[year], CalendarNotice{Year: year, Date: date, Title: name})
			continue
		case "holiday", "workday":
		default:
			return nil, calendarErr(line, "类型 %q 不认识，应为 notice（通知）、holiday（放假）或 workday（调休上班）", kind)
		}
		if date.Year() != year && !(date.Year() == year-1 && date.Month() == time.December) {
			return nil, calendarErr(line, "日期 %s 不属于 %d 年的安排（只能是 %d 年内，或上一年 12 月的元旦假期）", f[1], year, year)
		}
		day := calendarDay{year: year, holiday: kind == "holiday", name: name, line: line}
		if !day.holiday && !isWeekend(date) {
			return nil, calendarErr(line, "调休上班日 %s 是%s，不是周六或周日", f[1], weekdayNames[date.Weekday()])
		}
		key := dayKey(date)
		if prev, ok := c.days[key]; ok {
			switch {
			case prev.holiday == day.holiday:
				return nil, calendarErr(line, "日期 %s 重复，第 %d 行已经列过", f[1], prev.line)
			case prev.holiday:
				return nil, calendarErr(line, "%s 在第 %d 行是放假日（%s），不能同时是调休上班日", f[1], prev.line, prev.name)
			default:
				return nil, calendarErr(line, "%s 在第 %d 行是调休上班日（%s），不能同时是放假日", f[1], prev.line, prev.name)
			}
		}
		c.days[key] = day
		if _, ok := firstDay[year]; !ok {
			firstDay[year] = line
		}
	}
	if err := sc.Err(); err != nil {
		return nil, Errorf(EINVALID, "工作日历读不下去：%v", err)
	}
	for _, year := range slices.Sorted(maps.Keys(firstDay)) {
		if len(c.notices[year]) == 0 {
			return nil, calendarErr(firstDay[year], "%d 年列了放假或调休日期，却没有 notice 行（通知标题和日期）", year)
		}
	}
	if len(c.notices) == 0 {
		return nil, Errorf(EINVALID, "工作日历里没有任何年份（至少要有一行 notice）")
	}
	return c, nil
}

func calendarErr(line int, format string, args ...any) *Error {
	return Errorf(EINVALID, "工作日历第 %d 行：%s", line, fmt.Sprintf(format, args...))
}

// Override returns a calendar with the years of o in place of the same years of c and
// the other years of both: an operator's file that adds a year before the binary
// carries it, or corrects one. A year of o replaces every day c's notice for that
// year listed. It is an error if a date is then listed by two years' notices.
func (c *Calendar) Override(o *Calendar) (*Calendar, error) {
	out := &Calendar{days: map[int]calendarDay{}, notices: map[int][]CalendarNotice{}}
	for year, n := range c.noticeMap() {
		if o == nil || len(o.notices[year]) == 0 {
			out.notices[year] = n
		}
	}
	for key, d := range c.dayMap() {
		if _, ok := out.notices[d.year]; ok {
			out.days[key] = d
		}
	}
	for year, n := range o.noticeMap() {
		out.notices[year] = n
	}
	for _, key := range slices.Sorted(maps.Keys(o.dayMap())) {
		d := o.days[key]
		if prev, ok := out.days[key]; ok {
			return nil, Errorf(EINVALID, "工作日历：%s 已由 %d 年的通知列出，%d 年的第 %d 行又列了一次",
				keyDate(key).Format(time.DateOnly), prev.year, d.year, d.line)
		}
		out.days[key] = d
	}
	return out, nil
}

// Covers reports whether the calendar holds the notice for year. A date of a year it
// does not cover counts as a working day exactly when it is Monday to Friday.
func (c *Calendar) Covers(year int) bool { return len(c.noticeMap()[year]) > 0 }

// Years returns the covered years in order.
func (c *Calendar) Years() []int { return slices.Sorted(maps.Keys(c.noticeMap())) }

// Notices returns the notices year comes from, in file order; nil if it is not covered.
func (c *Calendar) Notices(year int) []CalendarNotice { return c.noticeMap()[year] }

// IsWorkingDay reports whether the day of t, in China time, is a working day: a make-up
// working day, or Monday to Friday and not a holiday day off.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	return c.isWorkingKey(dayKey(t.In(CST)))
}

// Holiday returns the name of the holiday (e.g. "国庆节、中秋节") when the day of t, in
// China time, is an official day off, and ok false otherwise — also for an ordinary
// weekend.
func (c *Calendar) Holiday(t time.Time) (name string, ok bool) {
	d, ok := c.dayMap()[dayKey(t.In(CST))]
	if !ok || !d.holiday {
		return "", false
	}
	return d.name, true
}

// AddWorkingDays returns the deadline n working days after from: the day of from (in
// China time) does not count, whatever it is; the next n working days do, holidays
// skipped and make-up Saturdays and Sundays counted; the deadline is the end of the
// n-th of them, 23:59:59.999999999 +08:00, so a thing done at any time that day is on
// time (compare with After). This is how periods in days are counted in Chinese law —
// the starting day is not counted and the last day ends at 24:00 (民法典 第二百零一条、
// 第二百零三条) — with 工作日 meaning days other than the weekend and statutory holidays
// (行政许可法 第八十二条), the usual reading of "N 个工作日内" limits in 信访 and 12345 work.
// A matter accepted on 2025-09-30 with 3 working days is due at the end of Saturday
// 2025-10-11: October 1–8 are off, the 9th and 10th are the first two working days and
// the make-up Saturday the 11th is the third.
//
// n <= 0 returns the end of the day of from. Days of uncovered years count Monday to
// Friday (see Calendar).
func (c *Calendar) AddWorkingDays(from time.Time, n int) time.Time {
	day := civilDay(from)
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if c.isWorkingKey(dayKey(day)) {
			n--
		}
	}
	return time.Date(day.Year(), day.Month(), day.Day(), 23, 59, 59, 999999999, CST)
}

// WorkingDaysBetween returns the number of working days after the day of a up to and
// including the day of b (days in China time), negated when b's day is before a's:
// the count AddWorkingDays adds, so WorkingDaysBetween(from, AddWorkingDays(from, n))
// is n for n >= 0. Working days left before a deadline are WorkingDaysBetween(now,
// deadline); a result below zero means it has passed by that many working days.
func (c *Calendar) WorkingDaysBetween(a, b time.Time) int {
	da, db := civilDay(a), civilDay(b)
	sign := 1
	if db.Before(da) {
		da, db, sign = db, da, -1
	}
	n := 0
	for d := da.AddDate(0, 0, 1); !d.After(db); d = d.AddDate(0, 0, 1) {
		if c.isWorkingKey(dayKey(d)) {
			n++
		}
	}
	return sign * n
}

// Uncovered returns, in order, the years of the days from the day of a through the
// day of b (in China time, either order) that the calendar does not cover: the years
// in which a count over that span fell back to Monday–Friday.
func (c *Calendar) Uncovered(a, b time.Time) []int {
	ya, yb := a.In(CST).Year(), b.In(CST).Year()
	if yb < ya {
		ya, yb = yb, ya
	}
	var out []int
	for y := ya; y <= yb; y++ {
		if !c.Covers(y) {
			out = append(out, y)
		}
	}
	return out
}

// CoverageWarning returns "" when every day from a through b is in a covered year,
// else a Chinese warning for the log or the user that the count over those years
// treated Monday to Friday as working days, naming the years.
func (c *Calendar) CoverageWarning(a, b time.Time) string {
	years := c.Uncovered(a, b)
	if len(years) == 0 {
		return ""
	}
	s := make([]string, len(years))
	for i, y := range years {
		s[i] = strconv.Itoa(y)
	}
	return fmt.Sprintf("工作日历未收录 %s 年的放假安排，这些年份按周一至周五计算工作日，期限可能偏早；"+
		"国务院办公厅公布当年节假日安排后请补入 data/calendar.csv 或运维日历文件", strings.Join(s, "、"))
}

func (c *Calendar) isWorkingKey(key int) bool {
	if d, ok := c.dayMap()[key]; ok {
		return !d.holiday
	}
	return !isWeekend(keyDate(key))
}

func (c *Calendar) dayMap() map[int]calendarDay {
	if c == nil {
		return nil
	}
	return c.days
}

func (c *Calendar) noticeMap() map[int][]CalendarNotice {
	if c == nil {
		return nil
	}
	return c.notices
}

// civilDay returns midnight CST of the day of t in China time.
func civilDay(t time.Time) time.Time {
	y, m, d := t.In(CST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, CST)
}

// dayKey is a date as yyyymmdd, read in t's own location.
func dayKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

func keyDate(key int) time.Time {
	return time.Date(key/10000, time.Month(key/100%100), key%100, 0, 0, 0, 0, CST)
}

func isWeekend(t time.Time) bool {
	return t.Weekday() == time.Saturday || t.Weekday() == time.Sunday
}

var weekdayNames = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}
