package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"fengqiao"
	"fengqiao/audit"
	"fengqiao/chains"
	"fengqiao/cockpit"
	"fengqiao/connectors"
	"fengqiao/connectors/alerts"
	"fengqiao/connectors/court"
	"fengqiao/connectors/hotline12345"
	"fengqiao/connectors/manifest"
	"fengqiao/connectors/manifests"
	"fengqiao/connectors/mediation"
	"fengqiao/connectors/police110"
	"fengqiao/gateway"
	"fengqiao/orders"
	"fengqiao/resolvers"
	"fengqiao/risk"
	"fengqiao/search"
	"fengqiao/tracing"
)

// Hub is a running fengqiao: index, sync state, connectors and HTTP server.
type Hub struct {
	Tree   *fengqiao.OrgTree
	Index  fengqiao.Index
	State  *connectors.State
	Runner *connectors.Runner
	Chains *chains.Swap // rebuilt in place by reindex
	Audit  *audit.Log
	Risk   *risk.Engine
	Tokens *gateway.Tokens
	Orders *orders.Service
	// Manifests runs the manifest folder's connectors and, for a folder on disk,
	// follows its changes while the hub serves; nil without manifests.
	Manifests *manifest.Folder

	manifestsLive bool // the folder is on disk: Serve watches it

	swap      *search.Swap    // the embedded index, rebuilt in place by reindex; nil behind Elasticsearch
	transport *http.Transport // every upstream client's (upstreamConns)
	reindex   *reindexer
	tally     *cockpit.Tally
	cold      fengqiao.Index // where retention moves old events; nil: they are dropped
	retention Retention
	figures   *cockpit.Service
	listener  net.Listener
	server    *http.Server
	closers   sync.Once
	lock      *dataLock // the data directory's, released last
	// stopTracing flushes and stops the span exporter (a no-op when tracing is off).
	stopTracing func(context.Context) error
}

// OpenHub opens the hub's data directory and listens on cfg.Addr. It first
// locks the directory: one held by another process is an error at once.
func OpenHub(cfg Config, log *slog.Logger) (*Hub, error) {
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(cfg.Data, 0o755); err != nil {
		return nil, err
	}
	lock, err := lockData(cfg.Data)
	if err != nil {
		return nil, err
	}
	h, err := openHub(cfg, log)
	if err != nil {
		lock.Close()
		return nil, err
	}
	h.lock = lock
	return h, nil
}

func openHub(cfg Config, log *slog.Logger) (*Hub, error) {
	log = slog.New(tracing.LogHandler(log.Handler())) // trace ids in the lines logged inside a span
	key, err := secretKey(filepath.Join(cfg.Data, "token.key"))
	if err != nil {
		return nil, err
	}
	personKey, err := secretKey(filepath.Join(cfg.Data, "person.key"))
	if err != nil {
		return nil, err
	}
	fengqiao.SetPersonKey(personKey)
	h := &Hub{Tree: fengqiao.Wenling()}
	if h.stopTracing, err = tracing.Setup(context.Background(), cfg.Tracing); err != nil {
		return nil, err
	}
	h.Tokens = gateway.NewTokens(key, h.Tree)
	if cfg.Elasticsearch != nil {
		h.Index, err = search.OpenElastic(context.Background(), *cfg.Elasticsearch)
	} else {
		h.swap, err = search.OpenSwap(filepath.Join(cfg.Data, "events.bleve"))
		h.Index = h.swap
	}
	if err != nil {
		return nil, err
	}
	if h.retention = cfg.Retention; h.retention.Years > 0 && !h.retention.Drop {
		if h.cold, err = search.OpenBleve(filepath.Join(cfg.Data, "cold.bleve")); err != nil {
			h.Index.Close()
			return nil, err
		}
		h.Index = &search.Tiered{Index: h.Index, Cold: h.cold}
	}
	if h.tally, err = cockpit.OpenTally(context.Background(), h.Index, filepath.Join(cfg.Data, "tally.db")); err != nil {
		h.Index.Close()
		return nil, err
	}
	h.Index = h.tally
	if h.State, err = connectors.OpenState(filepath.Join(cfg.Data, "state.db")); err != nil {
		h.Index.Close()
		return nil, err
	}
	if h.Chains, err = chains.OpenSwap(filepath.Join(cfg.Data, "chains"), h.Tree); err != nil {
		h.Close()
		return nil, err
	}
	if cfg.LinkRules != "" {
		if err := h.Chains.LoadRules(cfg.LinkRules); err != nil {
			h.Close()
			return nil, fmt.Errorf("串联规则有误：%w", err)
		}
	}
	if h.Audit, err = audit.Open(filepath.Join(cfg.Data, "audit.db")); err != nil {
		h.Close()
		return nil, err
	}
	if h.Risk, err = risk.New(risk.DefaultTaxonomy(), cfg.RiskRules); err != nil {
		h.Close()
		return nil, fmt.Errorf("风险规则有误：%w", err)
	}
	h.Runner = &connectors.Runner{Tree: h.Tree, Index: h.Index, State: h.State, Log: log, Interval: cfg.SyncInterval,
		Concurrency: cfg.SyncConcurrency, Linker: h.Chains}
	// Every upstream client shares one transport: the hub's connections are one pool.
	h.transport = connectors.NewTransport(cfg.UpstreamConns)
	if cfg.Hotline12345 != nil {
		c := *cfg.Hotline12345 // a copy: cfg's is the caller's
		c.Upstream.Transport = h.transport
		h.Runner.Add(hotline12345.New(c, log))
	}
	if cfg.Mediation != nil {
		c := *cfg.Mediation
		c.Upstream.Transport = h.transport
		h.Runner.Add(mediation.New(c, log))
	}
	if cfg.Police110 != nil {
		c := *cfg.Police110
		c.Upstream.Transport = h.transport
		h.Runner.Add(police110.New(c, log))
	}
	if cfg.Court != nil {
		c := *cfg.Court
		c.Upstream.Transport = h.transport
		h.Runner.Add(court.New(c, log))
	}
	var webhooks []fengqiao.Webhook
	if cfg.Alerts != nil {
		c := *cfg.Alerts
		c.Upstream.Transport = h.transport
		a := alerts.New(c, h.State, log)
		h.Runner.Add(a)
		webhooks = append(webhooks, a)
	}
	if err := h.addManifests(cfg, log); err != nil {
		h.Close()
		return nil, err
	}
	if err := h.openOrders(cfg, log); err != nil {
		h.Close()
		return nil, err
	}
	if h.figures, err = cockpit.New(h.Tree, h.tally, h.Chains, 30*time.Second); err != nil {
		h.Close()
		return nil, err
	}
	live, err := connectors.NewLive(h.Runner, 2*time.Second, 10*time.Second)
	if err != nil {
		h.Close()
		return nil, err
	}
	broker := cockpit.NewBroker()
	h.Runner.Indexed = func(events []*fengqiao.Event) {
		broker.Publish(events)
		h.Orders.Observe(events)
	}
	r := &resolvers.Resolver{Tree: h.Tree, Index: search.Traced(h.Index), Sync: h.Runner, Maintenance: h.Runner, ChainService: h.Chains, Clusters: h.Chains, Audit: h.Audit,
		Assessor: h.Risk, Figures: h.figures, Upstreams: live, Feed: broker.Subscribe, OrderService: h.Orders}
	srv := gateway.NewServer(cfg.Gateway, r, h.Tokens, h.Runner.Ready, log, webhooks...)
	h.addAdmin(srv, log)
	srv.HealthDetail("outbox", h.outboxHealth)
	srv.Observe(gateway.Observed{FeedSubscribers: broker.Subscribers, OutboxDepth: func() (int, error) {
		st, err := h.Orders.Outbox()
		return st.Depth, err
	}})
	h.addReports(srv)
	h.server = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	if h.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
		h.Close()
		return nil, fmt.Errorf("监听 %s 失败：%w", cfg.Addr, err)
	}
	return h, nil
}

// addManifests adds a connector for each manifest of the configured folder. At
// start every manifest must be right (all the problems are shown at once); a
// folder on disk is then watched (Serve), and a change that is wrong is refused
// while the running version stays.
func (h *Hub) addManifests(cfg Config, log *slog.Logger) error {
	var fsys fs.FS
	switch cfg.Manifests {
	case "":
		return nil
	case "builtin":
		fsys = manifests.FS
	default:
		fsys, h.manifestsLive = os.DirFS(cfg.Manifests), true
	}
	var builtin []string // no manifest may take a built-in connector's name
	for _, c := range h.Runner.Connectors() {
		builtin = append(builtin, c.Name())
	}
	if _, err := manifest.Load(fsys, cfg.ManifestVars, builtin...); err != nil {
		return fmt.Errorf("连接器清单有误：\n%w", err)
	}
	h.Manifests = &manifest.Folder{FS: fsys, Vars: cfg.ManifestVars, Runner: h.Runner, Log: log, Transport: h.transport}
	_, err := h.Manifests.Scan()
	return err
}

// Addr is the address the hub listens on.
func (h *Hub) Addr() string { return h.listener.Addr().String() }

// Serve syncs the connectors and serves HTTP until ctx ends.
func (h *Hub) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { h.Runner.Run(ctx) })
	wg.Go(func() { h.Risk.Watch(ctx.Done(), 5*time.Second) })
	wg.Go(func() { h.Chains.Watch(ctx.Done(), 5*time.Second, h.Runner.Log) })
	if h.manifestsLive {
		wg.Go(func() { h.Manifests.Watch(ctx.Done(), 3*time.Second) })
	}
	if h.retention.Years > 0 {
		wg.Go(func() { h.retainDaily(ctx) })
	}
	wg.Go(func() { h.figures.KeepSpans(ctx) })
	wg.Go(func() { h.Orders.Deliver(ctx) })
	wg.Go(func() { h.Orders.KeepEscalating(ctx, time.Minute) })
	errc := make(chan error, 1)
	go func() { errc <- h.server.Serve(h.listener) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	h.server.Shutdown(shutdown)
	cancel()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// retainDaily moves the events beyond the retention period out of the hot index
// a minute after the start, then once a day, until ctx ends.
func (h *Hub) retainDaily(ctx context.Context) {
	for wait := time.Minute; ; wait = 24 * time.Hour {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if _, err := h.Retain(ctx, time.Now()); err != nil && ctx.Err() == nil {
			h.Runner.Log.Error("保留期处理失败，明天再试", "err", err)
		}
	}
}

// Retain moves the events reported more than the retention period before now out
// of the hot index (into the cold one, or nowhere) and returns how many left.
func (h *Hub) Retain(ctx context.Context, now time.Time) (int, error) {
	horizon := now.AddDate(-h.retention.Years, 0, 0)
	n, err := search.Retain(ctx, h.Index, h.cold, horizon, nil)
	if n > 0 {
		h.Runner.Log.Info("保留期：已移出热索引", "events", n, "before", horizon, "cold", h.cold != nil)
	}
	return n, err
}

// Close releases the index and the sync state.
func (h *Hub) Close() {
	h.closers.Do(func() {
		if h.listener != nil {
			h.listener.Close()
		}
		if h.State != nil {
			h.State.Close()
		}
		if h.Chains != nil {
			h.Chains.Close()
		}
		if h.Orders != nil {
			h.Orders.Close()
		}
		if h.Audit != nil {
			h.Audit.Close()
		}
		if h.Index != nil {
			h.Index.Close()
		}
		if h.stopTracing != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			h.stopTracing(ctx)
			cancel()
		}
		h.lock.Close()
	})
}

// secretKey reads a secret key (token signing, person ids), creating a random one
// on first start.
func secretKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil && len(key) >= 32 {
		return key, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key = make([]byte, 32)
	rand.Read(key)
	return key, os.WriteFile(path, key, 0o600)
}
