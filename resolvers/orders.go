package resolvers

import (
	"context"
	"slices"

	"fengqiao"
	"fengqiao/orders"
)

// Matter is a matter (解纷码) with the orders of it the caller may see; its events
// are resolved when asked for.
type Matter struct {
	Code   string
	Orders []*fengqiao.Order
}

// orderStep runs one step mutation.
func orderStep(ctx context.Context, step func(context.Context, orders.StepInput) (*fengqiao.Order, error), in OrderStepInput) (*fengqiao.Order, error) {
	o, err := step(ctx, orders.StepInput{RequestID: in.RequestID, OrderID: in.OrderID, Note: deref(in.Note), Links: in.Links})
	return shownOrder(ctx, o), err
}

// visibleOrder is an order the caller may see, or nil.
func (r *Resolver) visibleOrder(ctx context.Context, id string) (*fengqiao.Order, error) {
	o, err := r.OrderService.Order(ctx, id)
	if fengqiao.ErrorCode(err) == fengqiao.ENOTFOUND {
		return nil, nil
	}
	return shownOrder(ctx, o), err
}

// visibleEvents are the events of ids the caller may see, in that order.
func (r *Resolver) visibleEvents(ctx context.Context, ids []string) ([]*fengqiao.Event, error) {
	found, err := r.Index.Lookup(ctx, ids)
	var events []*fengqiao.Event
	for _, id := range ids {
		if e := found[id]; e != nil && visible(ctx, e.OrgCode) {
			events = append(events, e)
		}
	}
	return events, err
}

// matterCode is the 解纷码 of a subject, or nil.
func (r *Resolver) matterCode(s fengqiao.OrderSubject) *string {
	if code := r.OrderService.MatterCode(s); code != "" {
		return &code
	}
	return nil
}

// shownOrder is o as the caller may read it: the free text of instructions and
// steps (which can carry a citizen's phone or ID number) masked for roles that
// do not see personal data.
func shownOrder(ctx context.Context, o *fengqiao.Order) *fengqiao.Order {
	if o == nil || fengqiao.PrincipalFrom(ctx).MaySeePersonalData() {
		return o
	}
	masked := *o
	masked.Instructions = fengqiao.MaskNumbers(o.Instructions)
	masked.Steps = slices.Clone(o.Steps)
	for i := range masked.Steps {
		masked.Steps[i].Note = fengqiao.MaskNumbers(masked.Steps[i].Note)
	}
	return &masked
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
