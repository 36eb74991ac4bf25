// Command bench measures the hub on this machine: sync+index throughput from the
// simulated upstreams, and the latency of a GraphQL query under concurrent load.
//
//	go run ./tools/bench [-scale 0.1] [-concurrency 16] [-requests 4000]
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
	"path/filepath"
	"slices"
	"sync"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/hotline12345"
	"fengqiao/connectors/mediation"
	"fengqiao/gateway"
	"fengqiao/resolvers"
	"fengqiao/search"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// query is the one the foundation issue names.
const query = `{ events(first: 5) { totalCount edges { node { id source title orgUnit { name level } } } } }`

func main() {
	scale := flag.Float64("scale", 0.1, "world size as a share of a real year (1 = ~176,000 records)")
	concurrency := flag.Int("concurrency", 16, "concurrent GraphQL clients")
	requests := flag.Int("requests", 4000, "GraphQL requests in all")
	flag.Parse()
	if err := run(*scale, *concurrency, *requests); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(scale float64, concurrency, requests int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "fengqiao-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	w := world.Generate(world.Config{Seed: 1, Scale: scale, End: time.Now().In(world.CST)})
	hotlineSim, mediationSim := httptest.NewServer(sim.NewHotline12345(w, "k").Handler()), httptest.NewServer(sim.NewMediation(w, "a", "s").Handler())
	defer hotlineSim.Close()
	defer mediationSim.Close()

	idx, err := search.OpenBleve(filepath.Join(dir, "events.bleve"))
	if err != nil {
		return err
	}
	defer idx.Close()
	state, err := connectors.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		return err
	}
	defer state.Close()
	tree := fengqiao.Wenling()
	runner := &connectors.Runner{Tree: tree, Index: idx, State: state, Log: quiet}
	conns := []fengqiao.Connector{
		hotline12345.New(hotline12345.Config{BaseURL: hotlineSim.URL, APIKey: "k"}, quiet),
		mediation.New(mediation.Config{BaseURL: mediationSim.URL, AppID: "a", Secret: "s"}, quiet),
	}
	for _, c := range conns {
		runner.Add(c)
	}

	fmt.Printf("machine: %d records in the world (scale %g)\n", len(w.Hotline)+len(w.Mediation), scale)
	total := 0
	start := time.Now()
	for _, c := range conns {
		// One connector at a time, so that each figure is its own.
		t0 := time.Now()
		for {
			caughtUp, err := runner.SyncBatch(ctx, c)
			if err != nil {
				return err
			}
			if caughtUp {
				break
			}
		}
		n, _ := idx.Count(ctx, fengqiao.EventFilter{Sources: []fengqiao.Source{c.Source()}})
		total += n
		fmt.Printf("sync+index %-13s %7d events in %6.2fs = %7.0f events/s\n", c.Name(), n, time.Since(t0).Seconds(), float64(n)/time.Since(t0).Seconds())
	}
	fmt.Printf("sync+index all           %7d events in %6.2fs = %7.0f events/s\n", total, time.Since(start).Seconds(), float64(total)/time.Since(start).Seconds())

	tokens := gateway.NewTokens([]byte("bench-key-bench-key-bench-key-32"), tree)
	srv := gateway.NewServer(gateway.Config{}, &resolvers.Resolver{Tree: tree, Index: idx, Sync: runner}, tokens, runner.Ready, quiet)
	hub := httptest.NewServer(srv.Handler())
	defer hub.Close()
	token, err := tokens.Issue(fengqiao.Principal{ID: "bench", Role: fengqiao.RoleAnalyst, OrgCode: tree.Root().Code}, time.Hour)
	if err != nil {
		return err
	}
	lat, elapsed, err := load(hub.URL, token, concurrency, requests)
	if err != nil {
		return err
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	fmt.Printf("query %q\n  %d requests, %d concurrent: %.0f req/s, p50 %v, p99 %v, max %v\n",
		query, len(lat), concurrency, float64(len(lat))/elapsed.Seconds(), pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	return nil
}

// load sends requests queries from concurrency clients and returns each latency.
func load(base, token string, concurrency, requests int) ([]time.Duration, time.Duration, error) {
	body, _ := json.Marshal(map[string]string{"query": query})
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
					_, err = io.Copy(io.Discard, resp.Body)
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
	return lat, time.Since(start), firstErr
}
