package gateway_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/gateway"
	"fengqiao/resolvers"
)

// stallingIndex answers no search before the request's context ends, and then
// fails the way a search backend does: wrapped in its own error.
type stallingIndex struct{ fengqiao.Index }

func (stallingIndex) Search(ctx context.Context, _ fengqiao.EventQuery) (*fengqiao.EventPage, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("%w: %w", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "搜索集群不可用"), ctx.Err())
}

func (s stallingIndex) Count(ctx context.Context, _ fengqiao.EventFilter) (int, error) {
	_, err := s.Search(ctx, fengqiao.EventQuery{})
	return 0, err
}

func TestQueriesPastTheirDeadlineSayTheyTimedOut(t *testing.T) {
	t.Parallel()
	tree := fengqiao.Wenling()
	tokens := gateway.NewTokens([]byte(testKey), tree)
	r := &resolvers.Resolver{Tree: tree, Index: stallingIndex{}, Sync: &fakeSync{}}
	s := gateway.NewServer(gateway.Config{RequestTimeout: 100 * time.Millisecond}, r, tokens, func() bool { return true }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	b := &testBundle{srv: srv, tokens: tokens}

	_, resp := b.query(t, b.token(t, fengqiao.RoleAnalyst, county), `{ a: events { totalCount } b: events(first: 5) { totalCount } c: events(first: 7) { totalCount } }`, nil)
	if len(resp.Errors) != 1 {
		t.Fatalf("%d errors, want one for the timeout: %+v", len(resp.Errors), resp.Errors)
	}
	if code, msg := firstError(t, resp); code != fengqiao.ELIMIT || !strings.Contains(msg, "查询超时（上限100ms）") {
		t.Errorf("code %q, message %q", code, msg)
	}
}
