package fengqiao

import (
	"context"
	"net/http"
	"time"
)

// Connector reads one upstream system. Go packages under connectors/ implement it,
// and so does the declarative engine for manifest-defined apps.
type Connector interface {
	// Name is the connector's stable identifier, e.g. "hotline12345".
	Name() string
	// Title is the upstream's Chinese name, e.g. "12345政务服务热线".
	Title() string
	// Source is the source every event of this connector carries.
	Source() Source
	// Sync reads the next batch of changes after cursor ("" = from the beginning).
	// It does not advance any stored state: the runner persists Next only after
	// the batch is indexed. Errors of the upstream are EUNAVAILABLE.
	Sync(ctx context.Context, cursor string) (*SyncBatch, error)
	// Fetch reads one record live by its source id: ENOTFOUND or EUNAVAILABLE.
	Fetch(ctx context.Context, sourceID string) (*Event, error)
}

// SyncBatch is what one Sync call read.
type SyncBatch struct {
	// Events are the records that mapped cleanly; the runner still validates them.
	Events []*Event
	// Projects are key projects read from a project registry.
	Projects []*Project
	// Rejects are the records that could not be mapped, kept for quarantine.
	Rejects []Reject
	// Next is the cursor to resume from after this batch.
	Next string
	// More says another batch is ready now; false means caught up.
	More bool
	// Remaining is how many records the upstream says are left after this batch,
	// for progress while catching up; 0 when it does not say (or none are left).
	Remaining int
	// Raws are the upstream's records of Events by SourceID, when the connector
	// keeps them: an event the hub refuses is quarantined with its record, which a
	// replay maps again, instead of with the event as mapped.
	Raws map[string]string
}

// Reject is an upstream record kept out of the index, with the reason.
type Reject struct {
	Connector string
	SourceID  string
	Reason    string // in Chinese, for the people who fix the upstream
	Raw       string // the record as received
	At        time.Time
	// Mapped says Raw is the event as the connector mapped it, not the upstream's
	// record: a record that mapped but failed the hub's checks, from a connector
	// that kept no copy of what it read. A replay checks such an event again as it
	// is instead of mapping it anew.
	Mapped bool `json:",omitempty"`
}

// ConnectorState is the persisted and live state of one connector.
type ConnectorState struct {
	Name          string
	Title         string
	Source        Source
	Cursor        string
	LastSyncAt    *time.Time // last sync attempt that ended, successful or not
	LastSuccessAt *time.Time
	LastError     string
	RecordsIn     int // events indexed, counting replays of the same record
	Quarantined   int // records currently in quarantine
	Pending       int // events waiting for the event they refer to
	BreakerState  string
	CaughtUp      bool // the last sync reached the end of the upstream's changes
	// NewestRecordAt is the newest record time (update time, else report time;
	// future times ignored) of the records taken in: now minus it is how far the
	// hub lags behind the upstream. Nil before the first.
	NewestRecordAt *time.Time
	// Refused is why the connector's manifest, changed on disk, was refused (the
	// running version, if any, stays); empty when it was taken.
	Refused string
	// Progress is how far the connector has come while it catches up (since start,
	// or since it fell behind); nil once it has caught up.
	Progress *SyncProgress
}

// SyncProgress is a connector's progress while it catches up with its upstream.
type SyncProgress struct {
	Read  int       // records read since it started catching up
	Since time.Time // when it started catching up
	Rate  float64   // records read per second since then
	// Remaining is how many records the upstream says are left, -1 when it does
	// not say; Total is Read + Remaining, and ETA the time left at Rate, both
	// unknown (-1, 0) then.
	Remaining int
	Total     int
	ETA       time.Duration
}

// SyncService reports on the connectors; the runner in connectors/ implements it.
type SyncService interface {
	// States returns the state of every connector.
	States() ([]ConnectorState, error)
	// QuarantineFirst returns up to n of the records a connector holds in
	// quarantine, newest first, reading no further.
	QuarantineFirst(connector string, n int) ([]Reject, error)
	// Title is the Chinese name of the connector named so, or "" when none runs.
	Title(connector string) string
	// Project returns the key project with the given code, or ENOTFOUND.
	Project(code string) (*Project, error)
}

// Remapper is implemented by connectors whose quarantined records can be mapped
// again (manifest connectors, after their mapping was fixed).
type Remapper interface {
	// Remap maps upstream records as Sync would have: events, projects and rejects.
	Remap(raws []string) *SyncBatch
}

// Rewinder is implemented by connectors whose cursor can be set to a time.
type Rewinder interface {
	// CursorFrom returns the cursor that reads again every change since from.
	CursorFrom(from time.Time) (string, error)
}

// ReplayResult is what a replay of a connector's quarantine did.
type ReplayResult struct {
	Connector   string
	Replayed    int // records taken out of quarantine and mapped again
	Indexed     int // of those, now indexed (or stored, for projects)
	Quarantined int // still refused, back in quarantine with their new reason
	Pending     int // now waiting for the event they refer to
}

// SyncMaintenance is what operators do to connectors; the runner implements it.
type SyncMaintenance interface {
	// ReplayQuarantine maps a connector's quarantined records again with its
	// current mapping: those that pass are indexed and leave quarantine.
	ReplayQuarantine(ctx context.Context, connector string) (ReplayResult, error)
	// ResetCursor makes a connector read again every change since from; it
	// returns the new cursor.
	ResetCursor(ctx context.Context, connector string, from time.Time) (string, error)
}

// Webhook is implemented by connectors that their upstream pushes to. The gateway
// serves it at WebhookPath without bearer tokens: the connector authenticates the
// upstream itself (signatures).
type Webhook interface {
	Connector
	http.Handler
	WebhookPath() string
}

// Waker is implemented by connectors that know when they have something new (a
// push arrived), so the runner syncs them at once instead of at its next interval.
type Waker interface {
	Wake() <-chan struct{}
}

// Linker links indexed events into chains of the same matter; the chains package
// implements it. Linking an event again changes nothing.
type Linker interface {
	Link(ctx context.Context, events []*Event) error
}

// LiveRecord is an event as its upstream has it now, or, when the upstream cannot
// answer, the last known version marked stale with the reason.
type LiveRecord struct {
	Event    *Event
	Stale    bool
	ReadAt   time.Time // when Event was read from the upstream; zero if it never was
	Upstream string    // the upstream's Chinese name
	Err      error     // why it is stale
}

// LiveReader reads events from their upstreams live; connectors.Live implements it.
type LiveReader interface {
	Current(ctx context.Context, e *Event) LiveRecord
}
