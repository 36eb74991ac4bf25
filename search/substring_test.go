package search_test

import (
	"context"
	"html"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"fengqiao"
	"fengqiao/search"
)

// TestEveryPieceFindsItsMessage is a property of the index: any piece of a
// message, cut anywhere in its title or text as the citizen wrote it
// (traditional, full-width, broken by spaces), finds the message; and where the
// piece is one run of characters, the message's highlight marks it whole, as
// written.
func TestEveryPieceFindsItsMessage(t *testing.T) {
	t.Parallel()
	idx, err := search.OpenBleve(filepath.Join(t.TempDir(), "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(2026, 8))
	messages := citizenMessages(rng, 300)
	var events []*fengqiao.Event
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for i, m := range messages {
		events = append(events, messageEvent(i, m, at.Add(time.Duration(i)*time.Minute), "331081100010"))
	}
	if err := idx.Upsert(ctx, events); err != nil {
		t.Fatal(err)
	}
	marked := regexp.MustCompile(`<mark>(.*?)</mark>`)
	failures := 0
	for range 3000 {
		i := rng.IntN(len(messages))
		piece, ok := randomPiece(rng, messages[i], 1+rng.IntN(12))
		if !ok {
			continue
		}
		page, err := idx.Search(ctx, fengqiao.EventQuery{First: 1, ByRelevance: true, Filter: fengqiao.EventFilter{Text: &piece, Identifier: &events[i].SourceID}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 1 {
			t.Errorf("%q does not find %s (%s / %s)", piece, events[i].ID, messages[i].Title, messages[i].Content)
			failures++
		} else if !strings.ContainsFunc(piece, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(`"＂“”`, r) }) {
			var spans []string
			for _, frag := range page.Highlights[0] {
				for _, m := range marked.FindAllStringSubmatch(frag, -1) {
					spans = append(spans, html.UnescapeString(m[1]))
				}
			}
			if !containsAny(spans, piece) {
				t.Errorf("%q: highlights %q mark no span that holds it", piece, page.Highlights[0])
				failures++
			}
		}
		if failures > 10 {
			t.Fatal("too many failures")
		}
	}
}

func containsAny(spans []string, piece string) bool {
	for _, s := range spans {
		if strings.Contains(s, piece) {
			return true
		}
	}
	return false
}

// TestFoldingIsCharacterByCharacter: a piece of a text folds to a piece of the
// folded text, whatever OpenCC would do to the phrase around it, and traditional
// and simplified writings of a message fold alike.
func TestFoldingIsCharacterByCharacter(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	for _, m := range citizenMessages(rng, 500) {
		for _, text := range []string{m.Title, m.Content} {
			traditional, _ := s2t.Convert(text)
			if search.Fold(traditional) != search.Fold(text) {
				t.Errorf("%s folds to %s, its traditional writing %s to %s", text, search.Fold(text), traditional, search.Fold(traditional))
			}
			folded, runes := search.Fold(traditional), []rune(traditional)
			for range 5 {
				n := 1 + rng.IntN(min(8, len(runes)))
				start := rng.IntN(len(runes) - n + 1)
				if piece := string(runes[start : start+n]); !strings.Contains(folded, search.Fold(piece)) {
					t.Errorf("%q folds to %q, not in %q", piece, search.Fold(piece), folded)
				}
			}
		}
	}
}
