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
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"fengqiao"
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

	w := world.Generate(world.Config{Seed: 1, Scale: *scale, End: time.Now().In(world.CST)})
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
	lat, elapsed, err := queryLoad(base, token, *concurrency, *requests)
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
			l, _, err := queryLoad(base, token, 4, 40)
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
		time.Sleep(100 * time.Millisecond)
	}
	incidents, _ := hub.Index.Count(ctx, fengqiao.EventFilter{Sources: []fengqiao.Source{fengqiao.SourceAlert}})
	fmt.Fprintf(m.Stdout, "  folded into %d incidents, %.1fs after the storm began\n", incidents, time.Since(t0).Seconds())
	return nil
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
func queryLoad(base, token string, concurrency, requests int) ([]time.Duration, time.Duration, error) {
	body, _ := json.Marshal(map[string]string{"query": benchQuery})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	jobs := make(chan struct{}, requests)
	for range requests {
		jobs <- struct{}{}
	}
	close(jobs)
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for range jobs {
				req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
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
	return lat, time.Since(start), firstErr
}

func machine() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s (%d CPU)", host, runtimeCPUs())
}

func runtimeCPUs() int { return runtime.NumCPU() }
