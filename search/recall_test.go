package search_test

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"fengqiao"
	"fengqiao/search"
)

// TestSubstringRecallOnMessagesCSV measures, on real messages, how many random
// pieces of a message's title or text find the message. It reads the CSV named by
// FENGQIAO_MESSAGES_CSV at run time (nothing of it is kept) and is skipped
// without one; FENGQIAO_MESSAGES_COLUMNS names the title and text columns
// (default 留言主题,留言详情). Run it with -v to see the figures:
//
//	FENGQIAO_MESSAGES_CSV=$PWD/../shared/eval/messages_hot.csv go test ./search -run SubstringRecall -v
func TestSubstringRecallOnMessagesCSV(t *testing.T) {
	path := os.Getenv("FENGQIAO_MESSAGES_CSV")
	if path == "" {
		t.Skip("FENGQIAO_MESSAGES_CSV is not set")
	}
	messages, err := readMessagesCSV(path, strings.Split(cmp.Or(os.Getenv("FENGQIAO_MESSAGES_COLUMNS"), "留言主题,留言详情"), ","))
	if err != nil {
		t.Skipf("no messages to measure: %v", err)
	}
	idx, err := search.OpenBleve(filepath.Join(t.TempDir(), "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var events []*fengqiao.Event
	for i, m := range messages {
		events = append(events, messageEvent(i, m, at.Add(time.Duration(i)*time.Minute), "331081100010"))
	}
	began := time.Now()
	for start := 0; start < len(events); start += 1000 {
		if err := idx.Upsert(ctx, events[start:min(start+1000, len(events))]); err != nil {
			t.Fatal(err)
		}
	}

	indexed := time.Since(began)
	rng := rand.New(rand.NewPCG(8, 8))
	// Each group counts pieces of its lengths, and apart those of letters and
	// digits only (no punctuation, no spaces).
	groups := []struct {
		name                     string
		min, max                 int
		samples, missed          int
		wordSamples, wordsMissed int
		examples                 []string
		took                     time.Duration
	}{{name: "1", min: 1, max: 1}, {name: "2-4", min: 2, max: 4}, {name: "5-8", min: 5, max: 8}, {name: "9-16", min: 9, max: 16}}
	for i, m := range messages {
		for g := range groups {
			for range 3 {
				piece, ok := randomPiece(rng, m, groups[g].min+rng.IntN(groups[g].max-groups[g].min+1))
				if !ok {
					continue
				}
				asked := time.Now()
				n, err := idx.Count(ctx, fengqiao.EventFilter{Text: &piece, Identifier: &events[i].SourceID})
				groups[g].took += time.Since(asked)
				if err != nil {
					t.Fatal(err)
				}
				words := !strings.ContainsFunc(piece, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
				groups[g].samples++
				if words {
					groups[g].wordSamples++
				}
				if n == 0 {
					groups[g].missed++
					if words {
						groups[g].wordsMissed++
					}
					if len(groups[g].examples) < 5 {
						groups[g].examples = append(groups[g].examples, fmt.Sprintf("%s %q", events[i].SourceID, piece))
					}
				}
			}
		}
	}
	t.Logf("%d messages from %s, indexed in %v", len(messages), path, indexed.Round(time.Millisecond))
	for _, g := range groups {
		t.Logf("pieces of %s characters: %d, found %d, recall %.4f (letters and digits only: %d, recall %.4f), %v a count; missed e.g. %s",
			g.name, g.samples, g.samples-g.missed, ratio(g.samples-g.missed, g.samples),
			g.wordSamples, ratio(g.wordSamples-g.wordsMissed, g.wordSamples), (g.took / time.Duration(max(1, g.samples))).Round(time.Microsecond),
			strings.Join(g.examples, ", "))
	}
}

func ratio(a, b int) float64 { return float64(a) / float64(max(1, b)) }

// randomPiece returns n adjacent characters of a message's title or text, from a
// random place; ok is false when the piece is only spaces and quotes (no query).
func randomPiece(rng *rand.Rand, m citizenMessage, n int) (string, bool) {
	title, content := []rune(m.Title), []rune(m.Content)
	text := content
	if rng.IntN(len(title)+len(content)) < len(title) {
		text = title
	}
	if len(text) < n {
		return "", false
	}
	start := rng.IntN(len(text) - n + 1)
	piece := string(text[start : start+n])
	return piece, strings.ContainsFunc(piece, func(r rune) bool { return !unicode.IsSpace(r) && !strings.ContainsRune(`"＂“”`, r) })
}

// readMessagesCSV reads the title and text columns of a CSV with a header.
func readMessagesCSV(path string, columns []string) ([]citizenMessage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.LazyQuotes, r.FieldsPerRecord = true, -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) < 2 || len(columns) != 2 {
		return nil, fmt.Errorf("%s: want a header and rows, and two columns named", path)
	}
	var at [2]int
	for i, name := range columns {
		if at[i] = slices.Index(rows[0], strings.TrimSpace(name)); at[i] < 0 {
			return nil, fmt.Errorf("%s: no column %q", path, name)
		}
	}
	var out []citizenMessage
	for _, row := range rows[1:] {
		if max(at[0], at[1]) < len(row) {
			out = append(out, citizenMessage{Title: row[at[0]], Content: row[at[1]]})
		}
	}
	return out, nil
}
