package chains

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cockroachdb/pebble"
	"github.com/goccy/go-yaml"

	"fengqiao"
)

// Case clusters (类案): the events of different reporters about one target and one
// subject. Each event is posted, at link time, under every (target, subject) it
// names; a cluster's record keeps what lists need without reading its events.

const (
	spaceClusters      = "k" // cluster id → clusterRecord
	spaceClusterEvents = "K" // cluster id \0 event id → ""
)

// reportersKept bounds the distinct reporters a cluster's record remembers: enough
// to rank clusters, whose views count their visible events' reporters afresh.
const reportersKept = 64

// targetsPerEvent bounds the targets one event is posted under.
const targetsPerEvent = 4

//go:embed subjects.yaml
var defaultSubjects []byte

// Subjects is the vocabulary that names what an uncategorized report is about.
type Subjects struct {
	Version  string              `json:"version"`
	Subjects map[string][]string `json:"subjects"`
	names    []string            // sorted, for a stable order
}

// ParseSubjects reads a subjects file: a version and at least one subject with words.
func ParseSubjects(text []byte) (*Subjects, error) {
	var s Subjects
	if err := yaml.Unmarshal(text, &s); err != nil {
		return nil, fmt.Errorf("类案事由词表有误：%v", err)
	}
	if s.Version == "" || len(s.Subjects) == 0 {
		return nil, errors.New("类案事由词表须有 version 和至少一个事由")
	}
	for name, words := range s.Subjects {
		if len(words) == 0 {
			return nil, fmt.Errorf("类案事由 %s 没有词语", name)
		}
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	return &s, nil
}

var builtinSubjects = func() *Subjects {
	s, err := ParseSubjects(defaultSubjects)
	if err != nil {
		panic(err)
	}
	return s
}()

// Of returns what a report is about: its upstream category when it has one, else
// every subject whose words its title or content holds.
func (s *Subjects) Of(e *fengqiao.Event) []string {
	if c := strings.TrimSpace(e.Category); c != "" && c != "其他" {
		return []string{c}
	}
	text := e.Title + "。" + e.Content
	var out []string
	for _, name := range s.names {
		for _, w := range s.Subjects[name] {
			if strings.Contains(text, w) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

type clusterRecord struct {
	Target    string
	Kind      TargetKind
	Subject   string
	Events    int
	Reporters []string // distinct, at most reportersKept
	Last      int64    // newest report, Unix seconds
}

// clusterID is stable for a target and subject.
func clusterID(kind TargetKind, name, subject string) string {
	return "KC" + strings.ToUpper(shortHash(string(kind)+"\x00"+name+"\x00"+subject))
}

// postClusters posts an event under every target it names (as read for linking)
// and subject it is about, once however often it is re-ingested.
func (s *Store) postClusters(b *pebble.Batch, e *fengqiao.Event, targets []Target) error {
	subjects := builtinSubjects.Of(e)
	reporter := e.Reporter()
	for _, t := range targets[:min(targetsPerEvent, len(targets))] {
		for _, subject := range subjects {
			if err := s.postCluster(b, clusterID(t.Kind, t.Name, subject), t, subject, e, reporter); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) postCluster(b *pebble.Batch, id string, t Target, subject string, e *fengqiao.Event, reporter string) error {
	member := key(spaceClusterEvents, id, e.ID)
	if v, err := get(b, member); err != nil || v != nil {
		return err // posted before
	}
	rec := clusterRecord{Target: t.Text, Kind: t.Kind, Subject: subject}
	if v, err := get(b, key(spaceClusters, id)); err != nil {
		return err
	} else if v != nil {
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
	}
	rec.Events++
	if reporter != "" && len(rec.Reporters) < reportersKept && !slices.Contains(rec.Reporters, reporter) {
		rec.Reporters = append(rec.Reporters, reporter)
	}
	rec.Last = max(rec.Last, e.ReportedAt.Unix())
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := b.Set(key(spaceClusters, id), v, nil); err != nil {
		return err
	}
	return b.Set(member, nil, nil)
}

// Clusters implements fengqiao.ClusterService: clusters of at least f.MinReporters
// distinct reporters with an event since f.Since, most recently active first.
func (s *Store) Clusters(ctx context.Context, f fengqiao.ClusterFilter, limit int) ([]*fengqiao.CaseCluster, error) {
	minReporters := max(f.MinReporters, 2)
	type found struct {
		id  string
		rec clusterRecord
	}
	var all []found
	prefix := key(spaceClusters, "")
	var decodeErr error
	err := scan(s.db, prefix, false, func(k, v []byte) bool {
		var rec clusterRecord
		if decodeErr = json.Unmarshal(v, &rec); decodeErr != nil {
			return false
		}
		if len(rec.Reporters) >= minReporters && (f.Since.IsZero() || rec.Last >= f.Since.Unix()) {
			all = append(all, found{string(k[len(prefix):]), rec})
		}
		return ctx.Err() == nil
	})
	if err = errors.Join(err, decodeErr, ctx.Err()); err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].rec.Last > all[j].rec.Last })
	var out []*fengqiao.CaseCluster
	for _, c := range all[:min(limit, len(all))] {
		cc, err := s.clusterOf(c.id, c.rec)
		if err != nil {
			return nil, err
		}
		out = append(out, cc)
	}
	return out, nil
}

// Cluster implements fengqiao.ClusterService.
func (s *Store) Cluster(ctx context.Context, id string) (*fengqiao.CaseCluster, error) {
	v, err := get(s.db, key(spaceClusters, id))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fengqiao.Errorf(fengqiao.ENOTFOUND, "类案不存在：%s", id)
	}
	var rec clusterRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, err
	}
	return s.clusterOf(id, rec)
}

func (s *Store) clusterOf(id string, rec clusterRecord) (*fengqiao.CaseCluster, error) {
	c := &fengqiao.CaseCluster{ID: id, Target: rec.Target, TargetKind: string(rec.Kind), Subject: rec.Subject}
	prefix := key(spaceClusterEvents, id, "")
	err := scan(s.db, prefix, false, func(k, _ []byte) bool {
		c.EventIDs = append(c.EventIDs, string(bytes.Clone(k[len(prefix):])))
		return true
	})
	return c, err
}
