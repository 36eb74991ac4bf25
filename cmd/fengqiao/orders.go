package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"fengqiao"
	"fengqiao/orders"
)

// openOrders opens the orders of the hub (orders.db), delivering to every
// connector whose upstream accepts work, with deadlines on the official calendar
// and the operator's calendar file over it.
func (h *Hub) openOrders(cfg Config, log *slog.Logger) error {
	calendar := fengqiao.OfficialCalendar()
	if cfg.Calendar != "" {
		f, err := os.Open(cfg.Calendar)
		if err != nil {
			return fmt.Errorf("工作日历文件无法打开：%w", err)
		}
		defer f.Close()
		extra, err := fengqiao.LoadCalendar(f)
		if err == nil {
			calendar, err = calendar.Override(extra)
		}
		if err != nil {
			return fmt.Errorf("工作日历文件 %s 有误：%w", cfg.Calendar, err)
		}
	}
	var dispatchers []fengqiao.Dispatcher
	for _, c := range h.Runner.Connectors() {
		if d, ok := c.(fengqiao.Dispatcher); ok {
			dispatchers = append(dispatchers, d)
		}
	}
	var err error
	h.Orders, err = orders.Open(filepath.Join(cfg.Data, "orders.db"), orders.Config{Tree: h.Tree, Calendar: calendar,
		Subjects: hubSubjects{h}, Audit: h.Audit, Dispatchers: dispatchers, Log: log})
	return err
}

// hubSubjects finds the events of an order's subject in the index and chains.
type hubSubjects struct{ h *Hub }

func (s hubSubjects) Events(ctx context.Context, subj fengqiao.OrderSubject) ([]*fengqiao.Event, string, error) {
	var ids []string
	chainID := ""
	switch subj.Kind {
	case fengqiao.SubjectEvent:
		ids = []string{subj.ID}
		if c, err := s.h.Chains.ChainOf(ctx, subj.ID); err == nil && c != nil {
			chainID = c.ID
		}
	case fengqiao.SubjectChain:
		c, err := s.h.Chains.Chain(ctx, subj.ID)
		if err != nil {
			return nil, "", err
		}
		ids, chainID = c.EventIDs, c.ID
	case fengqiao.SubjectCluster:
		c, err := s.h.Chains.Cluster(ctx, subj.ID)
		if err != nil {
			return nil, "", err
		}
		ids = c.EventIDs
	}
	found, err := s.h.Index.Lookup(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	var events []*fengqiao.Event
	for _, id := range ids {
		if e := found[id]; e != nil {
			events = append(events, e)
		}
	}
	if len(events) == 0 {
		return nil, "", fengqiao.Errorf(fengqiao.ENOTFOUND, "未找到：%s", subj.ID)
	}
	return events, chainID, nil
}

// outboxHealth is the outbox in /healthz's detailed view: deliveries waiting,
// and those failing with the upstream's reason.
func (h *Hub) outboxHealth() any {
	st, err := h.Orders.Outbox()
	if err != nil {
		return map[string]string{"error": err.Error()}
	}
	return st
}
