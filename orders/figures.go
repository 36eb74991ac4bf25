package orders

import (
	"strings"
	"time"

	"fengqiao"
)

// Figures are a unit's orders of a period: the orders addressed to the unit or a
// unit below it and issued in the period, as they stand now.
type Figures struct {
	Issued   int // 交办/督办的工单
	Closed   int // 已销号
	OnTime   int // 按期反馈并通过审核
	Overdue  int // 逾期：未反馈而已过期限的，和逾期后才反馈的
	Returned int // 被退回过
	Listed   int // 挂牌督办
	Open     int // 尚在办理（未反馈或退回重办）
}

// Figures counts the orders addressed into the subtree of org and issued in
// [from, to).
func (s *Service) Figures(org string, from, to time.Time) (Figures, error) {
	now := s.Now()
	var f Figures
	err := s.each(func(o *fengqiao.Order) {
		if !strings.HasPrefix(o.AddresseeOrg, org) || o.CreatedAt.Before(from) || !o.CreatedAt.Before(to) {
			return
		}
		f.Issued++
		if o.State == fengqiao.OrderClosed {
			f.Closed++
		}
		if o.OnTime() {
			f.OnTime++
		}
		if o.Overdue(now) || late(o) {
			f.Overdue++
		}
		if o.Open() {
			f.Open++
		}
		if o.Listed != "" {
			f.Listed++
		}
		for _, st := range o.Steps {
			if st.Action == fengqiao.ActionReturn {
				f.Returned++
				break
			}
		}
	})
	return f, err
}

// late reports whether an order's accepted feedback came after its deadline.
func late(o *fengqiao.Order) bool {
	accepted := false
	for _, st := range o.Steps {
		accepted = accepted || st.Action == fengqiao.ActionAccept
	}
	return accepted && !o.OnTime()
}
