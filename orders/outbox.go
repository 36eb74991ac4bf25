package orders

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"fengqiao"
)

// outboxItem is one delivery waiting in the outbox, written in the transaction of
// its order and removed in the transaction that records its outcome.
type outboxItem struct {
	Seq       uint64
	OrderID   string
	Connector string
	Dispatch  fengqiao.Dispatch
	Attempts  int
	NextAt    time.Time
}

func putOutbox(tx *bolt.Tx, it outboxItem) error {
	b := tx.Bucket(bucketOutbox)
	if it.Seq == 0 {
		it.Seq, _ = b.NextSequence()
	}
	v, err := json.Marshal(it)
	if err != nil {
		return err
	}
	return b.Put(binary.BigEndian.AppendUint64(nil, it.Seq), v)
}

// poke wakes the deliverer.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Deliver sends the outbox's due deliveries until ctx ends, at once when an order
// is issued and every second otherwise.
func (s *Service) Deliver(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if err := s.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("工单推送失败", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// Backoff is the wait before a delivery's next attempt: 2^attempts seconds, at
// most 5 minutes.
func Backoff(attempts int) time.Duration {
	return min(time.Second<<min(attempts, 9), 5*time.Minute)
}

// DeliverDue makes one attempt at every delivery that is due, oldest first.
func (s *Service) DeliverDue(ctx context.Context) error {
	var due []outboxItem
	now := s.Now()
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var it outboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return err
			}
			if !it.NextAt.After(now) {
				due = append(due, it)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, it := range due {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := s.attempt(ctx, it); err != nil {
			return err
		}
	}
	return nil
}

// attempt delivers one item and records the outcome: delivered (the item leaves
// the outbox and the order gets a step), refused (it leaves the outbox and the
// order shows the reason), or not now (it stays, with the reason and its next
// time). The dispatch's key is the same on every attempt, so an upstream that got
// it before answers with the work it already has.
func (s *Service) attempt(ctx context.Context, it outboxItem) error {
	d := s.dispatchers[it.Connector]
	var receipt fengqiao.Receipt
	var err error
	if d == nil {
		err = fengqiao.Errorf(fengqiao.EUNAVAILABLE, "连接器 %s 未配置，无法推送", it.Connector)
	} else {
		call, cancel := context.WithTimeout(ctx, 30*time.Second)
		receipt, err = d.Dispatch(call, it.Dispatch)
		cancel()
	}
	if err != nil && ctx.Err() != nil {
		return nil // stopping: the item stays for the next start
	}
	now := s.Now()
	refused := err != nil && fengqiao.ErrorCode(err) == fengqiao.EINVALID
	var o *fengqiao.Order
	txErr := s.db.Update(func(tx *bolt.Tx) error {
		key := binary.BigEndian.AppendUint64(nil, it.Seq)
		if tx.Bucket(bucketOutbox).Get(key) == nil {
			return nil
		}
		var gerr error
		if o, gerr = getOrder(tx, it.OrderID); gerr != nil {
			return gerr
		}
		dl := delivery(o, it.Connector)
		dl.Attempts++
		dl.At = now
		switch {
		case err == nil:
			dl.State, dl.Ref, dl.LastError = fengqiao.DeliveryDelivered, receipt.Ref, ""
			note := fmt.Sprintf("已推送至%s，对方编号 %s", it.Connector, receipt.Ref)
			if receipt.Duplicate {
				note += "（对方已有此件，未重复创建）"
			}
			o.Steps = append(o.Steps, fengqiao.OrderStep{Seq: len(o.Steps) + 1, Action: fengqiao.ActionDelivered, At: now, By: it.Connector, Org: o.AddresseeOrg, Note: note})
		case refused:
			dl.State, dl.LastError = fengqiao.DeliveryFailed, fengqiao.ErrorMessage(err)
		default:
			dl.LastError = fengqiao.ErrorMessage(err)
			it.Attempts++
			it.NextAt = now.Add(Backoff(it.Attempts))
			if err := putOrder(tx, o); err != nil {
				return err
			}
			return putOutbox(tx, it)
		}
		o.UpdatedAt = now
		if err := putOrder(tx, o); err != nil {
			return err
		}
		return tx.Bucket(bucketOutbox).Delete(key)
	})
	switch {
	case txErr != nil:
		return txErr
	case err == nil:
		s.Log.Info("工单已推送", "order", it.OrderID, "connector", it.Connector, "ref", receipt.Ref, "duplicate", receipt.Duplicate)
		s.notify(o, fengqiao.ActionDelivered)
	case refused:
		s.Log.Warn("工单推送被上游拒绝", "order", it.OrderID, "connector", it.Connector, "reason", fengqiao.ErrorMessage(err))
	default:
		s.Log.Warn("工单推送暂未成功，稍后重试", "order", it.OrderID, "connector", it.Connector, "attempts", it.Attempts, "err", err)
	}
	return nil
}

// delivery is the order's delivery to a connector (added if it has none).
func delivery(o *fengqiao.Order, connector string) *fengqiao.Delivery {
	for i := range o.Deliveries {
		if o.Deliveries[i].Connector == connector {
			return &o.Deliveries[i]
		}
	}
	o.Deliveries = append(o.Deliveries, fengqiao.Delivery{Connector: connector, State: fengqiao.DeliveryPending})
	return &o.Deliveries[len(o.Deliveries)-1]
}

// OutboxStatus is what /healthz shows of the outbox.
type OutboxStatus struct {
	Depth   int               `json:"depth"`
	Failing []FailingDelivery `json:"failing,omitempty"`
}

// FailingDelivery is a delivery that has failed at least once, or was refused.
type FailingDelivery struct {
	OrderID   string `json:"orderId"`
	Connector string `json:"connector"`
	Attempts  int    `json:"attempts"`
	Reason    string `json:"reason"`
	Refused   bool   `json:"refused"`
}

// Outbox reports the deliveries waiting and those failing.
func (s *Service) Outbox() (OutboxStatus, error) {
	var st OutboxStatus
	err := s.db.View(func(tx *bolt.Tx) error {
		st.Depth = tx.Bucket(bucketOutbox).Stats().KeyN
		return nil
	})
	if err != nil {
		return st, err
	}
	err = s.each(func(o *fengqiao.Order) {
		for _, d := range o.Deliveries {
			if d.LastError != "" {
				st.Failing = append(st.Failing, FailingDelivery{OrderID: o.ID, Connector: d.Connector, Attempts: d.Attempts, Reason: d.LastError, Refused: d.State == fengqiao.DeliveryFailed})
			}
		}
	})
	return st, err
}

// Observe moves orders along with what the upstreams' syncs read: a change of a
// delivered event's status becomes a step on its orders, and the upstream's
// completion of the work is feedback (by the connector) waiting for review.
func (s *Service) Observe(events []*fengqiao.Event) {
	s.mu.Lock()
	var hits []*fengqiao.Event
	for _, e := range events {
		if len(s.watched[e.ID]) > 0 {
			hits = append(hits, e)
		}
	}
	s.mu.Unlock()
	for _, e := range hits {
		if err := s.observe(e); err != nil {
			s.Log.Error("上游进展未能记入工单", "event", e.ID, "err", err)
		}
	}
}

func (s *Service) observe(e *fengqiao.Event) error {
	s.mu.Lock()
	ids := append([]string(nil), s.watched[e.ID]...)
	s.mu.Unlock()
	word := upstreamWord(e)
	var moved []*fengqiao.Order
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			o, err := getOrder(tx, id)
			if err != nil {
				return err
			}
			var dl *fengqiao.Delivery
			for i := range o.Deliveries {
				if o.Deliveries[i].EventID == e.ID {
					dl = &o.Deliveries[i]
				}
			}
			if dl == nil || dl.Upstream == word || o.State == fengqiao.OrderClosed {
				continue
			}
			dl.Upstream = word
			now := s.Now()
			note := "上游系统" + statusName(e.Status)
			if e.Outcome != "" {
				note += "（" + e.Outcome + "）"
			}
			step := fengqiao.OrderStep{Seq: len(o.Steps) + 1, Action: fengqiao.ActionUpstream, At: now, By: dl.Connector, Org: o.AddresseeOrg, Note: note}
			if (e.Status == fengqiao.StatusResolved || e.Status == fengqiao.StatusClosed) && o.Open() {
				step.Action, o.State = fengqiao.ActionFeedback, fengqiao.OrderFedBack
			}
			o.Steps, o.UpdatedAt = append(o.Steps, step), now
			if err := putOrder(tx, o); err != nil {
				return err
			}
			moved = append(moved, o)
		}
		return nil
	})
	for _, o := range moved {
		s.notify(o, o.Steps[len(o.Steps)-1].Action)
	}
	return err
}

// upstreamWord is what a delivery remembers of its event's state upstream: its
// status and outcome, so that only a change becomes a step.
func upstreamWord(e *fengqiao.Event) string {
	if e.Outcome == "" {
		return string(e.Status)
	}
	return string(e.Status) + "：" + e.Outcome
}

var statusNames = map[fengqiao.EventStatus]string{
	fengqiao.StatusReceived: "已受理", fengqiao.StatusDispatched: "已派发", fengqiao.StatusInProgress: "办理中",
	fengqiao.StatusResolved: "已办结", fengqiao.StatusClosed: "已归档",
}

func statusName(s fengqiao.EventStatus) string { return statusNames[s] }
