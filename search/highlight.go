package search

import (
	"html"
	"slices"
	"strings"

	"fengqiao"
)

// fragmentRunes is the most characters a highlight fragment shows.
const fragmentRunes = 80

// highlights returns a fragment of an event's title and one of its content
// around the terms of a text query, each where a term occurs. Both backends
// highlight here, from the text as written: the citizen's own characters and
// punctuation, each whole occurrence of a term marked <mark>…</mark> (one span
// where occurrences overlap or touch) and everything else HTML-escaped.
func highlights(terms []queryTerm, e *fengqiao.Event) []string {
	var frags []string
	for _, text := range []string{e.Title, e.Content} {
		if frag := highlight(text, terms); frag != "" {
			frags = append(frags, frag)
		}
	}
	return frags
}

// span is an occurrence of a term in folded text, [start, end) in its characters.
type span struct{ start, end, term int }

// highlight returns the best fragment of text for the terms, or "" when none
// occurs in it.
func highlight(text string, terms []queryTerm) string {
	var folded []rune
	var from, to []int // the bytes of text each folded character stands for
	foldEach(text, func(r rune, start, end int) {
		folded, from, to = append(folded, r), append(from, start), append(to, end)
	})
	var spans []span
	for i, t := range terms {
		term := []rune(t.Folded)
		for at := 0; at+len(term) <= len(folded); at++ {
			if folded[at] == term[0] && slices.Equal(folded[at:at+len(term)], term) {
				spans = append(spans, span{at, at + len(term), i})
			}
		}
	}
	if len(spans) == 0 {
		return ""
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	lo, hi := window(spans, len(folded))

	var b strings.Builder
	pos := from[lo] // the next byte of text to write
	for _, s := range merge(spans) {
		start, end := max(s.start, lo), min(s.end, hi)
		if start >= end {
			continue
		}
		b.WriteString(html.EscapeString(text[pos:from[start]]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[from[start]:to[end-1]]))
		b.WriteString("</mark>")
		pos = to[end-1]
	}
	b.WriteString(html.EscapeString(text[pos:to[hi-1]]))
	return b.String()
}

// window chooses the characters [lo, hi) of a text of n that a fragment shows:
// the whole text if it fits, else the stretch of fragmentRunes that holds the most
// different terms (then the most occurrences, then the earliest), starting a
// little before its first occurrence.
func window(spans []span, n int) (lo, hi int) {
	if n <= fragmentRunes {
		return 0, n
	}
	bestScore := [2]int{-1, -1}
	for _, first := range spans[:min(len(spans), 64)] {
		start := max(0, min(first.start-fragmentRunes/4, n-fragmentRunes))
		end := start + fragmentRunes
		terms := map[int]bool{}
		count := 0
		for _, s := range spans {
			if s.start >= start && s.end <= end {
				terms[s.term] = true
				count++
			}
		}
		if score := [2]int{len(terms), count}; score[0] > bestScore[0] || score[0] == bestScore[0] && score[1] > bestScore[1] {
			bestScore, lo, hi = score, start, end
		}
	}
	return lo, hi
}

// merge joins spans, sorted by start, that overlap or touch.
func merge(spans []span) []span {
	var out []span
	for _, s := range spans {
		if n := len(out); n > 0 && s.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}
