package connectors

import (
	"log/slog"

	"fengqiao"
)

// Base is what every connector says of itself, with its upstream's HTTP client.
// Connectors embed it for Name, Title, Source and BreakerState.
type Base struct {
	name, title string
	source      fengqiao.Source
	Upstream    *Upstream
}

// NewBase returns the base of the connector called name (title in Chinese) for
// source, with an HTTP client configured by cfg.
func NewBase(name, title string, source fengqiao.Source, cfg UpstreamConfig, log *slog.Logger) Base {
	return Base{name: name, title: title, source: source, Upstream: NewUpstream(name, title, cfg, log)}
}

func (b Base) Name() string            { return b.name }
func (b Base) Title() string           { return b.title }
func (b Base) Source() fengqiao.Source { return b.source }
func (b Base) BreakerState() string    { return b.Upstream.BreakerState() }
