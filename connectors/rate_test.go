package connectors_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
)

// TestRateLimitHoldsForCallersInAHurry: callers with a deadline shorter than the
// wait for their turn (live reads) fail at once with the reason instead of
// sending anyway; the upstream sees no more than its rate, and its breaker does
// not count the hub's own limit as the upstream's failure.
func TestRateLimitHoldsForCallersInAHurry(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	up := connectors.NewUpstream("board", "留言板", connectors.UpstreamConfig{RateLimit: 1.0 / 60, BreakerFailures: 2,
		RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}, nil)
	for i := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := up.Do(ctx, connectors.Call{Method: http.MethodGet, URL: srv.URL + "/list"})
		cancel()
		if i == 0 && err != nil {
			t.Fatalf("the first call, in its turn: %v", err)
		}
		if i > 0 && (fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE || !strings.Contains(err.Error(), "限流")) {
			t.Fatalf("call %d before its turn: %v, want EUNAVAILABLE naming the rate limit", i+1, err)
		}
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the upstream saw %d requests in a minute at 1/min", n)
	}
	if s := up.BreakerState(); s != "closed" {
		t.Errorf("breaker %s after calls the hub held back", s)
	}
}
