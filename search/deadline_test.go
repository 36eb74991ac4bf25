package search

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fengqiao"
)

// TestBleveReadsStopWhenTheirContextEnds: Bleve looks at the context only while it
// collects hits, and building the searchers of a long text took 24 s in issue 11
// whatever the deadline. Every read now returns when its context ends, while the
// Bleve search it started is still running.
func TestBleveReadsStopWhenTheirContextEnds(t *testing.T) {
	t.Parallel()
	b, err := OpenBleve(filepath.Join(t.TempDir(), "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	at := time.Now()
	if err := b.Upsert(context.Background(), []*fengqiao.Event{{ID: "MEDIATION:A", Source: fengqiao.SourceMediation, SourceID: "A",
		Title: "邻里纠纷", ReportedAt: at, OccurredAt: at, UpdatedAt: at, OrgCode: "331081100010"}}); err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("纠纷", 50)
	filter := fengqiao.EventFilter{Text: &text}
	reads := map[string]func(context.Context) error{
		"search": func(ctx context.Context) error {
			_, err := b.Search(ctx, fengqiao.EventQuery{Filter: filter, First: 5})
			return err
		},
		"ranked": func(ctx context.Context) error {
			_, err := b.Search(ctx, fengqiao.EventQuery{Filter: filter, First: 5, ByRelevance: true})
			return err
		},
		"count": func(ctx context.Context) error {
			_, err := b.Count(ctx, filter)
			return err
		},
		"facets": func(ctx context.Context) error {
			_, err := b.Facets(ctx, filter)
			return err
		},
		"lookup": func(ctx context.Context) error {
			_, err := b.Lookup(ctx, []string{"MEDIATION:A"})
			return err
		},
	}
	for name, read := range reads {
		ctx, cancel := context.WithCancel(context.Background())
		release, finished := make(chan struct{}), make(chan struct{})
		var once sync.Once
		// The Bleve search starts, the request's context ends, and the search
		// goes on until the test lets it.
		b.searchStarted = func() { cancel(); <-release }
		b.searchDone = func() { once.Do(func() { close(finished) }) }
		err := read(ctx)
		select {
		case <-finished:
			t.Errorf("%s returned only when Bleve was done", name)
		default:
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v, want the context's error", name, err)
		}
		close(release)
		<-finished
		cancel()
	}
	b.searchStarted, b.searchDone = nil, nil

	// An ended context searches nothing.
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if _, err := b.Search(ctx, fengqiao.EventQuery{First: 5}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("search past its deadline: %v", err)
	}
}

// stallingCluster answers the index setup, and then holds every search until the
// request's context ends.
type stallingCluster struct{ started func() }

func (c stallingCluster) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.URL.Path, "_search") || strings.Contains(req.URL.Path, "_count") {
		c.started()
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	h := http.Header{"Content-Type": {"application/json"}, "X-Elastic-Product": {"Elasticsearch"}}
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
}

// TestElasticReadsThatRunOutOfTimeSaySo: a search the request's deadline ended is
// the request's timeout (the gateway's 查询超时), not an unavailable cluster.
func TestElasticReadsThatRunOutOfTimeSaySo(t *testing.T) {
	t.Parallel()
	var cancel context.CancelFunc
	e, err := OpenElastic(context.Background(), ElasticConfig{URLs: []string{"http://es.invalid:9200"},
		Transport: stallingCluster{started: func() { cancel() }}})
	if err != nil {
		t.Fatal(err)
	}
	text := "纠纷"
	for name, read := range map[string]func(context.Context) error{
		"search": func(ctx context.Context) error {
			_, err := e.Search(ctx, fengqiao.EventQuery{Filter: fengqiao.EventFilter{Text: &text}, First: 5})
			return err
		},
		"count": func(ctx context.Context) error {
			_, err := e.Count(ctx, fengqiao.EventFilter{Text: &text})
			return err
		},
	} {
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		err := read(ctx)
		if !errors.Is(err, context.Canceled) || fengqiao.ErrorCode(err) == fengqiao.EUNAVAILABLE {
			t.Errorf("%s: %v (code %s), want the context's error", name, err, fengqiao.ErrorCode(err))
		}
		cancel()
	}
}
