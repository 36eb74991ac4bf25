package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loadResult is what a load run measured. Only requests that succeeded are
// latencies; one that failed or timed out is counted in errors and nothing else.
type loadResult struct {
	lat         []time.Duration // of the successful requests, sorted
	errors      int
	firstErr    error
	elapsed     time.Duration
	concurrency int
}

func (r loadResult) requests() int { return len(r.lat) + r.errors }

// pct returns the p-th quantile (0…1) of the successful requests' latencies, and
// false when none succeeded.
func (r loadResult) pct(p float64) (time.Duration, bool) {
	if len(r.lat) == 0 {
		return 0, false
	}
	return r.lat[int(p*float64(len(r.lat)-1)+0.5)], true
}

// rate is successful requests a second.
func (r loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.lat)) / r.elapsed.Seconds()
}

// String summarises the run for a person.
func (r loadResult) String() string {
	s := fmt.Sprintf("%d 个请求，%d 并发：%.0f 次/秒", r.requests(), r.concurrency, r.rate())
	if p50, ok := r.pct(0.5); ok {
		p95, _ := r.pct(0.95)
		p99, _ := r.pct(0.99)
		s += fmt.Sprintf("，p50 %s，p95 %s，p99 %s", ms(p50), ms(p95), ms(p99))
	}
	if r.errors > 0 {
		s += fmt.Sprintf("，%d 个出错（%v）", r.errors, r.firstErr)
	}
	return s
}

// runLoad makes requests calls of do (do(ctx, i) is the i-th) from concurrency
// workers. A call that returns an error is counted as an error, never as a
// latency. It returns ctx's error when ctx ends first.
func runLoad(ctx context.Context, concurrency, requests int, do func(ctx context.Context, i int) error) (loadResult, error) {
	concurrency = max(1, min(concurrency, requests))
	jobs := make(chan int, requests)
	for i := range requests {
		jobs <- i
	}
	close(jobs)
	res := loadResult{concurrency: concurrency}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for i := range jobs {
				if ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				err := do(ctx, i)
				d := time.Since(t0)
				if ctx.Err() != nil {
					return // stopped, not failed
				}
				mu.Lock()
				if err != nil {
					res.errors++
					if res.firstErr == nil {
						res.firstErr = err
					}
				} else {
					res.lat = append(res.lat, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.lat)
	return res, ctx.Err()
}

// gqlClient posts GraphQL requests with a bearer token.
type gqlClient struct {
	url, token string
	http       *http.Client
}

// requestTimeout is how long the bench waits for one answer (the hub's own
// limit is 15 s): a request that takes longer is an error.
const requestTimeout = 30 * time.Second

func newGQLClient(url, token string, conns int) *gqlClient {
	return &gqlClient{url: url, token: token, http: &http.Client{Timeout: requestTimeout,
		Transport: &http.Transport{MaxIdleConnsPerHost: max(conns, 2), MaxIdleConns: max(conns, 2)}}}
}

// gqlAnswer is a GraphQL response.
type gqlAnswer struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// post sends query with vars and returns the answer; an HTTP status other than
// 200, a body that is not a GraphQL answer or, unless partial, any error entry
// is an error.
func (c *gqlClient) post(ctx context.Context, query string, vars map[string]any, partial bool) (*gqlAnswer, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
	}
	var ans gqlAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		return nil, fmt.Errorf("不是 GraphQL 答复：%w", err)
	}
	if len(ans.Errors) > 0 && (!partial || len(ans.Data) == 0 || string(ans.Data) == "null") {
		return &ans, errors.New(ans.Errors[0].Message)
	}
	return &ans, nil
}

// do returns a load function posting query(i)'s query and variables.
func (c *gqlClient) do(query func(i int) (string, map[string]any)) func(context.Context, int) error {
	return func(ctx context.Context, i int) error {
		q, vars := query(i)
		_, err := c.post(ctx, q, vars, false)
		return err
	}
}

func (c *gqlClient) close() { c.http.CloseIdleConnections() }

// rss is this process's resident set size, from /proc/self/status (0 where
// there is none).
func rss() uint64 { return procStatus()["VmRSS"] }

// procStatus reads the sizes in /proc/self/status (VmRSS, RssAnon, RssFile…),
// in bytes.
func procStatus() map[string]uint64 {
	sizes := map[string]uint64{}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return sizes
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if v, kB := strings.CutSuffix(strings.TrimSpace(v), " kB"); ok && kB {
			n, _ := strconv.ParseUint(v, 10, 64)
			sizes[name] = n << 10
		}
	}
	return sizes
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}
