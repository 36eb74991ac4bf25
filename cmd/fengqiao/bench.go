package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"fengqiao"
	"fengqiao/resolvers"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// benchQuery is the query the foundation issue names.
const benchQuery = `{ events(first: 5) { totalCount edges { node { id source title orgUnit { name level } } } } }`

// bench measures this machine: each connector's sync+index throughput from its
// simulator, the latency of a GraphQL query under concurrent load, and an alert
// storm's intake with the same query's latency during it.
func (m *Main) bench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	scale := fs.Float64("scale", 0.1, "模拟数据规模（真实年量的比例）")
	concurrency := fs.Int("concurrency", 16, "并发 GraphQL 客户端数")
	requests := fs.Int("requests", 4000, "GraphQL 请求总数")
	storm := fs.Int("storm", 5000, "告警风暴的告警数")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fengqiao-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	w, err := m.generateWorld(ctx, world.Config{Seed: 1, Scale: *scale, End: time.Now().In(world.CST)})
	if err != nil {
		return err
	}
	county, err := sim.StartCounty(w)
	if err != nil {
		return err
	}
	defer county.Close()
	hub, err := OpenHub(countyConfig(county, "127.0.0.1:0", dir), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer hub.Close()
	fmt.Fprintf(m.Stdout, "scale %g on %s\n", *scale, machine())

	// Each connector alone, so that each figure is its own.
	total, start := 0, time.Now()
	for _, c := range hub.Runner.Connectors() {
		if c.Source() == fengqiao.SourceAlert {
			continue // pushed, measured by the storm below
		}
		t0 := time.Now()
		for {
			caughtUp, err := hub.Runner.SyncBatch(ctx, c)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name(), err)
			}
			if caughtUp {
				break
			}
		}
		n := recordsIn(hub, c.Name())
		total += n
		d := time.Since(t0)
		fmt.Fprintf(m.Stdout, "sync+index %-13s %7d records in %6.2fs = %7.0f records/s\n", c.Name(), n, d.Seconds(), float64(n)/d.Seconds())
	}
	d := time.Since(start)
	fmt.Fprintf(m.Stdout, "sync+index all           %7d records in %6.2fs = %7.0f records/s\n", total, d.Seconds(), float64(total)/d.Seconds())

	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	go hub.Serve(serveCtx)
	base := "http://" + hub.Addr()
	token, err := hub.Tokens.Issue(fengqiao.Principal{ID: "bench", Role: fengqiao.RoleAnalyst, OrgCode: hub.Tree.Root().Code}, time.Hour)
	if err != nil {
		return err
	}
	lat, elapsed, err := queryLoad(ctx, base, token, *concurrency, *requests)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "query %s\n  %s\n", benchQuery, latencies(lat, elapsed, *concurrency))

	// The storm: alerts pushed as fast as 16 senders can, from 20 devices, while
	// 4 clients keep querying.
	pusher := &sim.Pusher{URL: base + "/webhooks/alerts", Secret: county.Secret, Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	var stormRes sim.StormResult
	var stormErr error
	done := make(chan struct{})
	go func() {
		stormRes, stormErr = pusher.Storm(ctx, county.Alerts, county.Alerts.Devices()[:20], *storm, 16)
		close(done)
	}()
	var during []time.Duration
	t0 := time.Now()
	for {
		select {
		case <-done:
		default:
			l, _, err := queryLoad(ctx, base, token, 4, 40)
			if err != nil {
				return err
			}
			during = append(during, l...)
			continue
		}
		break
	}
	if stormErr != nil {
		return stormErr
	}
	fmt.Fprintf(m.Stdout, "alert storm: %d alerts pushed, %d accepted in %.2fs = %.0f alerts/s (%.0f a minute)\n",
		stormRes.Sent, stormRes.Accepted, stormRes.Elapsed.Seconds(), float64(stormRes.Accepted)/stormRes.Elapsed.Seconds(), float64(stormRes.Accepted)/stormRes.Elapsed.Minutes())
	fmt.Fprintf(m.Stdout, "  the query during the storm: %s\n", latencies(during, time.Since(t0), 4))
	for !hub.Runner.Ready() || pendingAlerts(hub) > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	incidents, _ := hub.Index.Count(ctx, fengqiao.EventFilter{Sources: []fengqiao.Source{fengqiao.SourceAlert}})
	fmt.Fprintf(m.Stdout, "  folded into %d incidents, %.1fs after the storm began\n", incidents, time.Since(t0).Seconds())
	return m.benchCockpit(ctx, hub, county, base, token, *concurrency)
}

// cockpitQuery asks for a county cockpit; shift moves the period by seconds, so
// that each shift is figures the cache has not seen.
func cockpitQuery(shift int) string {
	to := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(shift) * time.Second)
	return fmt.Sprintf(`{ cockpit(from: %q, to: %q, granularity: MONTH) { total onSiteRate mediationRate satisfactionRate overdue
		facets { sources { value count } } series { start count } ranking { orgUnit { name } total settledRate } alerts { type count } } }`,
		to.AddDate(-1, 0, 0).Format(time.RFC3339), to.Format(time.RFC3339))
}

// benchCockpit measures the cockpit query cached and uncached, against a bare
// gqlgen server that returns the same figures from memory, and a live-read query
// with one upstream down.
func (m *Main) benchCockpit(ctx context.Context, hub *Hub, county *sim.County, base, token string, concurrency int) error {
	url := base + "/graphql"
	report := func(label string, lat []time.Duration, elapsed time.Duration, err error) (float64, error) {
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(m.Stdout, "  %-44s %s\n", label, latencies(lat, elapsed, concurrency))
		return float64(len(lat)) / elapsed.Seconds(), nil
	}
	fmt.Fprintln(m.Stdout, "cockpit: the county's figures for a year, by month")
	lat, el, err := load(ctx, url, token, 4, 12, func(i int) string { return cockpitQuery(i + 1) })
	if _, err := report("uncached (a new period each request)", lat, el, err); err != nil {
		return err
	}
	load(ctx, url, token, 1, 1, func(int) string { return cockpitQuery(0) }) // warm the cache
	lat, el, err = load(ctx, url, token, concurrency, 4000, func(int) string { return cockpitQuery(0) })
	cached, err := report("cached", lat, el, err)
	if err != nil {
		return err
	}
	// The bare server: the same schema, figures from memory, no auth, limits or metrics.
	from, to := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	figures, err := hub.figures.Figures(ctx, hub.Tree.Root().Code, from, to, fengqiao.Month)
	if err != nil {
		return err
	}
	p, _ := hub.Tokens.Verify(token)
	bare := handler.New(resolvers.NewSchema(&resolvers.Resolver{Tree: hub.Tree, Index: hub.Index, Figures: fixedFigures{figures}}))
	bare.AddTransport(transport.POST{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bare.ServeHTTP(w, r.WithContext(fengqiao.WithPrincipal(r.Context(), p)))
	}))
	defer srv.Close()
	lat, el, err = load(ctx, srv.URL, token, concurrency, 4000, func(int) string { return cockpitQuery(0) })
	bareRate, err := report("bare gqlgen, same payload from memory", lat, el, err)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "  cached hub ÷ bare gqlgen: %.2f\n", cached/bareRate)

	live := `{ events(filter: {sources: [HOTLINE_12345]}, first: 5) { edges { node { id live { stale event { status } } } } } }`
	fmt.Fprintln(m.Stdout, "live reads: 5 work orders read from the 12345 hotline")
	lat, el, err = load(ctx, url, token, concurrency, 2000, func(int) string { return live })
	if _, err := report("all upstreams up", lat, el, err); err != nil {
		return err
	}
	county.Switch("hotline").Set(sim.Faults{Down: true})
	defer county.Switch("hotline").Set(sim.Faults{})
	lat, el, err = load(ctx, url, token, concurrency, 2000, func(int) string { return live })
	if _, err := report("the hotline down (stale answers)", lat, el, err); err != nil {
		return err
	}
	return nil
}

// fixedFigures answers every cockpit with the same figures, from memory.
type fixedFigures struct{ f *fengqiao.CockpitFigures }

func (x fixedFigures) Figures(context.Context, string, time.Time, time.Time, fengqiao.Granularity) (*fengqiao.CockpitFigures, error) {
	return x.f, nil
}

func (x fixedFigures) Trends(context.Context, string, time.Time) ([]fengqiao.TrendWarning, error) {
	return nil, nil
}

func recordsIn(hub *Hub, name string) int {
	states, _ := hub.Runner.States()
	for _, s := range states {
		if s.Name == name {
			return s.RecordsIn
		}
	}
	return 0
}

func pendingAlerts(hub *Hub) int {
	n, _ := hub.State.Len("alerts/inbox")
	states, _ := hub.Runner.States()
	for _, s := range states {
		if s.Name == "alerts" && s.Cursor == "" {
			return 1 // nothing folded yet
		}
	}
	return n
}

func latencies(lat []time.Duration, elapsed time.Duration, concurrency int) string {
	if len(lat) == 0 {
		return "no requests"
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(10 * time.Microsecond) }
	return fmt.Sprintf("%d requests, %d concurrent: %.0f req/s, p50 %v, p99 %v", len(lat), concurrency,
		float64(len(lat))/elapsed.Seconds(), pct(0.50), pct(0.99))
}

// queryLoad sends requests of benchQuery from concurrency clients.
func queryLoad(ctx context.Context, base, token string, concurrency, requests int) ([]time.Duration, time.Duration, error) {
	return load(ctx, base+"/graphql", token, concurrency, requests, func(int) string { return benchQuery })
}

// load sends requests queries (query(i) is the i-th) from concurrency clients to
// url and returns each latency. It stops with ctx's error when ctx ends.
func load(ctx context.Context, url, token string, concurrency, requests int, query func(i int) string) ([]time.Duration, time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	jobs := make(chan int, requests)
	for i := range requests {
		jobs <- i
	}
	close(jobs)
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for i := range jobs {
				if ctx.Err() != nil {
					return
				}
				body, _ := json.Marshal(map[string]string{"query": query(i)})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("HTTP %d", resp.StatusCode)
					}
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	client.CloseIdleConnections()
	if err := ctx.Err(); err != nil {
		return lat, time.Since(start), err
	}
	return lat, time.Since(start), firstErr
}

func machine() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s (%d CPU)", host, runtimeCPUs())
}

func runtimeCPUs() int { return runtime.NumCPU() }
