package connectors

import (
	"context"
	"fmt"
	"time"

	"fengqiao"
)

// LookupThenCreate delivers work to an upstream that does not deduplicate what
// it is sent (no idempotency key): a create repeated after its answer was lost
// would make the work twice. So before each attempt, the first included, lookup
// asks the upstream for the work under the caller's own key and returns the
// upstream's id for it, or "" when it has none; found, the work is not sent
// again and the receipt says Duplicate. This covers an earlier attempt of this
// call and an earlier call that ended (or crashed) before it learnt the answer.
//
// create is sent once per attempt, never repeated by the client on its own;
// lookups are retried as any read. Attempts follow the upstream's settings:
// RetryMax more after the first, backed off between RetryWaitMin and
// RetryWaitMax, within ctx. An error other than EUNAVAILABLE (the upstream
// refused) ends the call; after the last attempt, its EUNAVAILABLE is returned.
// It assumes one caller at a time per key, as an outbox delivers.
func (u *Upstream) LookupThenCreate(ctx context.Context, lookup func(context.Context) (string, error),
	create func(context.Context) (string, error)) (fengqiao.Receipt, error) {
	var last error
	for attempt := 0; attempt <= u.client.RetryMax; attempt++ {
		if attempt > 0 {
			wait := u.client.Backoff(u.client.RetryWaitMin, u.client.RetryWaitMax, attempt-1, nil)
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
				break
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return fengqiao.Receipt{}, fmt.Errorf("%w: %w", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s访问失败", u.title), ctx.Err())
			}
		}
		ref, err := lookup(ctx)
		if err == nil && ref != "" {
			return fengqiao.Receipt{Ref: ref, Duplicate: true}, nil
		}
		if err == nil {
			if ref, err = create(withRetries(ctx, 0)); err == nil {
				return fengqiao.Receipt{Ref: ref}, nil
			}
		}
		if fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE {
			return fengqiao.Receipt{}, err
		}
		last = err
	}
	return fengqiao.Receipt{}, last
}
