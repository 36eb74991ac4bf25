package connectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/sony/gobreaker/v2"

	"fengqiao"
)

// Response is an upstream's answer to a call, whatever its status: what a write
// judges (accepted, already had it, refused and why).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Exchange sends the call as Do does — the same client, retries, breaker and
// errors for failures — but returns every answer for the caller to judge: a 2xx,
// and a 4xx other than 429 (a refusal, a duplicate, a record not found) come back
// as a Response and count as the upstream's success for the breaker. Transport
// errors, timeouts, 429 and 5xx are, after retries, EUNAVAILABLE; an open breaker
// is EUNAVAILABLE at once. once sends the call a single time (the client does not
// repeat it by itself): a create an upstream does not deduplicate must not be
// sent twice blindly.
func (u *Upstream) Exchange(ctx context.Context, c Call, once bool) (*Response, error) {
	state := &call{maxRetries: u.client.RetryMax}
	if n, ok := ctx.Value(retriesKey{}).(int); ok && n < state.maxRetries {
		state.maxRetries = max(n, 0)
	}
	if once {
		state.maxRetries = 0
	}
	ctx = context.WithValue(ctx, callKey{}, state)
	var answer *Response
	_, err := u.breaker.Execute(func() ([]byte, error) {
		req, err := c.request(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := u.client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		switch {
		case err != nil:
			return nil, err
		case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500, resp.StatusCode < 200:
			return nil, fmt.Errorf("%s %s: HTTP %d: %.200s", c.Method, c.URL, resp.StatusCode, b)
		}
		answer = &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
		return nil, nil
	})
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return nil, fmt.Errorf("%w: %w", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s暂时不可用（熔断中）", u.title), err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s访问失败", u.title), err)
	}
	return answer, nil
}
