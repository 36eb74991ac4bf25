package connectors

import (
	"time"

	"fengqiao"
)

// FutureTolerance is how far ahead of the hub's clock an upstream may date a
// record (clocks drift). A record dated later is quarantined.
const FutureTolerance = 10 * time.Minute

// CheckNotFuture says in Chinese why a record whose field is dated t, read at
// now, is refused: it is dated beyond now plus FutureTolerance. It is nil for
// any other time.
func CheckNotFuture(field string, t, now time.Time) error {
	if !beyondTolerance(t, now) {
		return nil
	}
	return fengqiao.Errorf(fengqiao.EINVALID, "%s %s 晚于当前时间超过 %d 分钟，疑为上游时钟或数据有误",
		field, t.In(CST).Format("2006-01-02 15:04:05"), int(FutureTolerance.Minutes()))
}

// CheckDates says in Chinese why an event read at now is refused for its dates:
// it is updated beyond now plus FutureTolerance, or one of its dates cannot be
// written. It is nil for any other event.
func CheckDates(e *fengqiao.Event, now time.Time) error {
	if err := CheckNotFuture("更新时间", e.UpdatedAt, now); err != nil {
		return err
	}
	for _, d := range []struct {
		field string
		t     *time.Time
	}{{"发生时间", &e.OccurredAt}, {"受理时间", &e.ReportedAt}, {"更新时间", &e.UpdatedAt}, {"办理期限", e.Deadline}, {"办结时间", e.ResolvedAt}} {
		if d.t != nil {
			if err := checkWritable(d.field, *d.t); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkWritable says in Chinese why a date cannot be written: the index and the
// sync state write dates as RFC 3339, which has room for the years 0 to 9999 only.
// An upstream's garbage date outside them would otherwise fail its whole batch, at
// every sync.
func checkWritable(field string, t time.Time) error {
	if _, err := t.MarshalJSON(); err != nil {
		return fengqiao.Errorf(fengqiao.EINVALID, "%s超出可记录的范围（公元0至9999年）：%d年", field, t.Year())
	}
	return nil
}

// beyondTolerance reports whether t is later than now plus FutureTolerance.
func beyondTolerance(t, now time.Time) bool { return t.After(now.Add(FutureTolerance)) }

// CST is China Standard Time, in which every upstream writes its times.
var CST = fengqiao.CST
