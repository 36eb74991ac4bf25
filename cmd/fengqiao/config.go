package main

import (
	"fmt"
	"os"
	"time"

	"github.com/goccy/go-yaml"

	"fengqiao/connectors"
	"fengqiao/connectors/alerts"
	"fengqiao/connectors/court"
	"fengqiao/connectors/hotline12345"
	"fengqiao/connectors/mediation"
	"fengqiao/connectors/police110"
	"fengqiao/gateway"
	"fengqiao/search"
	"fengqiao/tracing"
)

// Config is the hub's configuration file (YAML). Connectors that are not
// configured are not run.
type Config struct {
	// Addr is where the hub listens. Default 127.0.0.1:8080.
	Addr string `json:"addr"`
	// Data is the directory for the index, the sync state and the token key. Default ./data.
	Data string `json:"data"`
	// SyncInterval is the pause between syncs of a caught-up connector. Default 30s.
	SyncInterval time.Duration `json:"syncInterval"`
	// SyncConcurrency is how many connectors sync at once, fleet-wide. Default 8.
	SyncConcurrency int `json:"syncConcurrency"`
	// UpstreamConns is how many connections the hub opens to one upstream host at
	// most (syncs, live reads and write-backs together); at most as many stay
	// idle a host, and four times as many across all. Default 16.
	UpstreamConns int            `json:"upstreamConns"`
	Gateway       gateway.Config `json:"gateway"`
	// Elasticsearch, when set, holds the index instead of the embedded Bleve
	// directory: for more events than one machine serves, or several hub replicas.
	Elasticsearch *search.ElasticConfig `json:"elasticsearch"`

	Hotline12345 *hotline12345.Config `json:"hotline12345"`
	Mediation    *mediation.Config    `json:"mediation"`
	Police110    *police110.Config    `json:"police110"`
	Court        *court.Config        `json:"court"`
	Alerts       *alerts.Config       `json:"alerts"`

	// Manifests is a folder of connector manifests (*.yaml) to run; "builtin" runs
	// the ones that ship with fengqiao. Empty runs none.
	Manifests string `json:"manifests"`
	// ManifestVars fill the ${NAME} references of the manifests (the environment
	// is consulted for names not given here).
	ManifestVars map[string]string `json:"manifestVars"`
	// RiskRules is the risk rules file, reloaded when it changes; "" runs the
	// built-in rules.
	RiskRules string `json:"riskRules"`
	// LinkRules is the link rules file of the chains (windows, thresholds and
	// weights of each kind of evidence), reloaded when it changes; "" runs the
	// built-in rules (chains/rules.yaml).
	LinkRules string `json:"linkRules"`
	// Calendar is a working-day calendar file (data/calendar.csv's format) whose
	// years replace or add to the official calendar built in; "" uses that alone.
	Calendar string `json:"calendar"`
	// Retention moves old events out of the hot index once a day.
	Retention Retention `json:"retention"`
	// Tracing exports OpenTelemetry spans over OTLP/HTTP; off unless
	// tracing.otlpEndpoint is set (docs/metrics.md, Tracing).
	Tracing tracing.Config `json:"tracing"`
	// Log is the format and level of the log (stderr); -log-format and
	// -log-level override it.
	Log LogConfig `json:"log"`
}

// LogConfig is the log's format, "text" (default: key=value lines) or "json"
// (one object a line), and its least level: "debug", "info" (default), "warn"
// or "error".
type LogConfig struct {
	Format string `json:"format"`
	Level  string `json:"level"`
}

// Retention moves the events reported more than Years years ago out of the hot
// index: into the cold index (cold.bleve in the data directory), where they stay
// readable by id (an event's page, a chain's timeline) but no longer searched, or
// nowhere when Drop is set. The cockpit's figures count them all the same. Zero
// years keeps every event hot.
type Retention struct {
	Years int  `json:"years"`
	Drop  bool `json:"drop"`
}

// LoadConfig reads a config file, then the FENGQIAO_ environment variables over
// it (configenv.go); unknown keys are errors, reported with their line. An
// empty path reads the environment alone.
func LoadConfig(path string) (Config, error) {
	cfg, _, err := loadConfig(path, os.Environ())
	return cfg, err
}

// loadConfig is LoadConfig over the environment environ; it also returns the
// variables it used.
func loadConfig(path string, environ []string) (Config, []string, error) {
	var cfg Config
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, nil, fmt.Errorf("读取配置文件失败：%w", err)
		}
		if err := yaml.UnmarshalWithOptions(b, &cfg, yaml.Strict()); err != nil {
			return cfg, nil, fmt.Errorf("配置文件 %s 有误：\n%s", path, yaml.FormatError(err, false, true))
		}
	}
	used, err := applyEnv(&cfg, environ)
	if err != nil {
		return cfg, used, err
	}
	return cfg.withDefaults(), used, nil
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.Data == "" {
		c.Data = "data"
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = 30 * time.Second
	}
	if c.SyncConcurrency <= 0 {
		c.SyncConcurrency = connectors.DefaultConcurrency
	}
	if c.UpstreamConns <= 0 {
		c.UpstreamConns = connectors.DefaultConnsPerHost
	}
	c.Retention.Years = max(c.Retention.Years, 0)
	return c
}
