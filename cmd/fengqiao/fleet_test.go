package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors/manifest"
	"fengqiao/tools/sim"
)

// TestFleetOfGeneratedAppsSyncsWithinBounds starts thirty generated apps of every
// API style, each with its manifest in the hub's folder, and a hub that syncs
// them all at once: every app's records are all in the index as the app served
// them, only its broken records are quarantined, and the hub kept within its
// bounds — concurrent syncs and connections, and each app's rate limit.
func TestFleetOfGeneratedAppsSyncsWithinBounds(t *testing.T) {
	t.Parallel()
	const bound = 4
	dir := t.TempDir()
	f, err := startFleet(sim.FleetConfig{Seed: 13, Apps: 30, Records: 120, End: time.Date(2026, 11, 1, 0, 0, 0, 0, fengqiao.CST),
		MalformedRate: 0.02}, "127.0.0.1:0", filepath.Join(dir, "manifests"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hub, err := OpenHub(Config{Addr: "127.0.0.1:0", Data: filepath.Join(dir, "data"), SyncInterval: time.Hour,
		SyncConcurrency: bound, UpstreamConns: bound, Manifests: filepath.Join(dir, "manifests"), ManifestVars: f.Vars},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- hub.Serve(ctx) }()
	defer func() {
		cancel()
		<-served
		hub.Close()
	}()
	if len(hub.Runner.Connectors()) != len(f.Apps) {
		t.Fatalf("%d connectors for %d apps", len(hub.Runner.Connectors()), len(f.Apps))
	}
	for !hub.Runner.Ready() {
		time.Sleep(50 * time.Millisecond)
	}

	styles := map[string]bool{}
	wellFormed := 0
	for _, app := range f.Apps {
		styles[app.Style()] = true
		if app.Served() != app.Len() {
			t.Errorf("%s served %d of its %d records", app.Name, app.Served(), app.Len())
		}
		if app.OverRate() > 0 {
			t.Errorf("%s (rateLimit %g/s) was sent %d requests past its rate", app.Name, app.RateLimit, app.OverRate())
		}
		// The ids the hub gives the app's records, as its own connector maps them.
		var c *manifest.Connector
		for _, rc := range hub.Runner.Connectors() {
			if m, ok := rc.(*manifest.Connector); ok && rc.Name() == app.Name {
				c = m
			}
		}
		if c == nil {
			t.Fatalf("no connector for %s", app.Name)
		}
		titles := map[string]string{}
		for _, row := range app.Rows() {
			raw, _ := json.Marshal(row)
			e, _, id, err := c.Map(raw)
			if err != nil {
				if !slices.Contains(app.Malformed(), id) {
					t.Errorf("%s: record %s does not map: %v", app.Name, id, err)
				}
				continue
			}
			titles[e.ID] = e.Title
		}
		wellFormed += len(titles)
		found, err := hub.Index.Lookup(ctx, slices.Collect(func(yield func(string) bool) {
			for id := range titles {
				if !yield(id) {
					return
				}
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != len(titles) {
			t.Errorf("%s: %d of its %d well-formed records are in the index", app.Name, len(found), len(titles))
		}
		if n, err := hub.Index.Count(ctx, fengqiao.EventFilter{Apps: []string{app.Name}}); err != nil || n != len(titles) {
			t.Errorf("%s: the index counts %d events of the app (%v), it served %d well-formed records", app.Name, n, err, len(titles))
		}
		for id, e := range found {
			if e.Title != titles[id] {
				t.Errorf("%s: %s is titled %q in the index, the app says %q", app.Name, id, e.Title, titles[id])
			}
		}
		rejects, err := hub.Runner.Quarantine(app.Name)
		if err != nil {
			t.Fatal(err)
		}
		var quarantined []string
		for _, r := range rejects {
			quarantined = append(quarantined, r.SourceID)
		}
		slices.Sort(quarantined)
		want := slices.Sorted(slices.Values(app.Malformed()))
		if !slices.Equal(quarantined, want) {
			t.Errorf("%s quarantined %v, want its malformed records %v", app.Name, quarantined, want)
		}
	}
	if n, err := hub.Index.Count(ctx, fengqiao.EventFilter{}); err != nil || n != wellFormed {
		t.Errorf("the index holds %d events (%v), the apps served %d well-formed records", n, err, wellFormed)
	}
	if len(styles) < 9 {
		t.Errorf("only %d API styles among %d apps: %v", len(styles), len(f.Apps), styles)
	}
	if f.PeakRequests() > bound || f.PeakConns() > bound {
		t.Errorf("the hub had %d requests and %d connections open to the apps at once; the bound is %d", f.PeakRequests(), f.PeakConns(), bound)
	}
	t.Logf("%d apps, %d records (%d well-formed); at most %d requests and %d connections at once",
		len(f.Apps), f.Records(), wellFormed, f.PeakRequests(), f.PeakConns())
}
