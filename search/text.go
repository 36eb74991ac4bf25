package search

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/longbridgeapp/opencc"
	"golang.org/x/text/width"

	"fengqiao"
)

// Text is searched by its grams: every two adjacent characters of its folded
// form. Folding works one character at a time, so a piece of a text folds to the
// same characters as it does inside the text, and every piece of two or more
// characters is a phrase of grams the index holds; a piece of one character is a
// prefix of a gram. Both backends index the grams as whitespace-separated terms
// (textGrams) and are asked for the grams of each query term (parseText): one
// analyzer, written here, for both.

// gap stands in a gram for a run of whitespace, which would split a gram in two.
// Folding maps the character itself to '_', so no text can make it.
const gap = '▁'

// foldRune writes one character as it is searched: full-width forms as
// half-width, upper case as lower, traditional characters as simplified. A
// character is folded to one representative of all the characters OpenCC's
// dictionaries convert into each other, phrase conversions included (瞭 and 了,
// as in 瞭解 → 了解), so that folding a character alone does what converting the
// phrase around it does.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	t := foldTable()
	if r < rune(len(t.bmp)) {
		return t.bmp[r]
	}
	if f, ok := t.astral[r]; ok {
		return f
	}
	return r
}

// isGap reports whether r is whitespace to either backend's tokenizer (Go's
// unicode.IsSpace, Java's Character.isWhitespace).
func isGap(r rune) bool { return unicode.IsSpace(r) || 0x1c <= r && r <= 0x1f || r == 0x180e }

// foldTable holds foldRune's answers: a table for the Basic Multilingual Plane
// and a map for the characters beyond it that fold to another.
var foldTable = sync.OnceValue(func() *foldings {
	t := &foldings{bmp: make([]rune, 0x10000), astral: map[rune]rune{}}
	variants := simplifiedVariants()
	fold := func(r rune) rune {
		if f := width.LookupRune(r).Folded(); f != 0 {
			r = f
		}
		r = unicode.ToLower(r)
		if v, ok := variants[r]; ok {
			r = v
		}
		if r == gap {
			r = '_'
		}
		return r
	}
	for r := range rune(len(t.bmp)) {
		t.bmp[r] = fold(r)
	}
	for r := range variants {
		if r >= rune(len(t.bmp)) {
			t.astral[r] = fold(r)
		}
	}
	return t
})

type foldings struct {
	bmp    []rune
	astral map[rune]rune
}

// simplifiedVariants maps each character that OpenCC's dictionaries convert to
// another or from another (traditional to simplified by its character and phrase
// dictionaries, simplified to traditional by its character dictionary; every
// candidate, phrases character by character) to one representative of the
// characters so linked.
func simplifiedVariants() map[rune]rune {
	// Union-find over the characters the dictionaries link.
	parent := map[rune]rune{}
	var find func(r rune) rune
	find = func(r rune) rune {
		if p := parent[r]; p != r {
			parent[r] = find(p)
		}
		return parent[r]
	}
	link := func(a, b rune) {
		for _, r := range []rune{a, b} {
			if _, ok := parent[r]; !ok {
				parent[r] = r
			}
		}
		if ra, rb := find(a), find(b); ra != rb {
			parent[rb] = ra
		}
	}
	traditional := map[rune]bool{} // converted to another character by t2s's character dictionary
	standard := map[rune]bool{}    // what t2s's character dictionary converts a character to first
	for _, conversion := range []string{"t2s", "s2t"} {
		cc, err := opencc.New(conversion)
		if err != nil {
			panic(err) // the dictionaries are embedded in the binary
		}
		for _, group := range cc.DictChains {
			for i, dict := range group.Dicts {
				if conversion == "s2t" && strings.Contains(group.Files[i], "Phrases") {
					continue // thousands of phrases, some regional (讲下 → 講吓): its characters are enough
				}
				for _, id := range dict.Trie.PrefixPredict(nil, 0) {
					key, err := dict.Trie.Key(id)
					if err != nil {
						continue
					}
					value, err := dict.Trie.Value(id)
					if err != nil || value >= len(dict.Values) {
						continue
					}
					from := []rune(string(key))
					for i, to := range dict.Values[value] {
						to := []rune(to)
						if len(to) != len(from) {
							continue // a phrase rewritten to another length links no characters
						}
						for j := range from {
							link(from[j], to[j])
						}
						if conversion == "t2s" && i == 0 && len(from) == 1 && from[0] != to[0] {
							traditional[from[0]], standard[to[0]] = true, true
						}
					}
				}
			}
		}
	}
	// Choose each class's representative: a character not converted, the standard
	// simplified form where there is one, then the smallest.
	rank := func(r rune) []int { return []int{b2i(traditional[r]), b2i(!standard[r]), int(r)} }
	best := map[rune]rune{}
	for r := range parent {
		root := find(r)
		if b, ok := best[root]; !ok || slices.Compare(rank(r), rank(b)) < 0 {
			best[root] = r
		}
	}
	out := make(map[rune]rune, len(parent))
	for r := range parent {
		if rep := best[find(r)]; rep != r {
			out[r] = rep
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Fold writes text as it is indexed and searched: each character folded by
// foldRune, each run of whitespace as one gap, none at either end.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	foldEach(s, func(r rune, _, _ int) { b.WriteRune(r) })
	return b.String()
}

// foldEach calls yield with each character of Fold(s) and the bytes [start, end)
// of s it stands for: one character, or a run of whitespace.
func foldEach(s string, yield func(r rune, start, end int)) {
	gapAt, seen := -1, false // where whitespace after a character began; whether one was seen
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isGap(r):
			if seen && gapAt < 0 {
				gapAt = i
			}
		default:
			if gapAt >= 0 {
				yield(gap, gapAt, i)
				gapAt = -1
			}
			yield(foldRune(r), i, i+size)
			seen = true
		}
		i += size
	}
}

// textGrams returns the terms a text is indexed by, separated by spaces: the
// grams of its folded form, the last character paired with a gap so that every
// character begins a gram.
func textGrams(s string) string {
	f := []rune(Fold(s))
	if len(f) == 0 {
		return ""
	}
	f = append(f, gap)
	var b strings.Builder
	b.Grow(len(f) * 7)
	for i := 0; i+1 < len(f); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(f[i])
		b.WriteRune(f[i+1])
	}
	return b.String()
}

// queryTerm is one thing a text query requires: a word, or a quoted phrase.
type queryTerm struct {
	// Folded is the term folded as text is.
	Folded string
	// Grams are the grams a text containing the term holds at consecutive
	// positions; a term of one character has none and is the prefix of a gram.
	Grams []string
}

// parseText splits a text query into the terms it requires, all of them, each
// once: whitespace separates words, and text in double quotes ("…" or “…”) is
// one phrase, spaces included. An unclosed quote runs to the end.
func parseText(s string) []queryTerm {
	var terms []queryTerm
	add := func(t string) {
		folded := Fold(t)
		if folded == "" || slices.ContainsFunc(terms, func(t queryTerm) bool { return t.Folded == folded }) {
			return
		}
		r := []rune(folded)
		term := queryTerm{Folded: folded}
		for i := 0; i+1 < len(r); i++ {
			term.Grams = append(term.Grams, string(r[i:i+2]))
		}
		terms = append(terms, term)
	}
	var cur strings.Builder
	inPhrase := false
	for _, r := range s {
		switch {
		case r == '"' || r == '＂' || r == '“' || r == '”':
			add(cur.String())
			cur.Reset()
			inPhrase = !inPhrase
		case isGap(r) && !inPhrase:
			add(cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	add(cur.String())
	return terms
}

// MaxTextTerms is the most words and phrases a text query may hold: each is
// searched in every text field, so their number multiplies what a search costs.
const MaxTextTerms = 10

// checkText refuses a filter whose text holds more than MaxTextTerms terms.
func checkText(f fengqiao.EventFilter) error {
	if n := len(textTerms(f)); n > MaxTextTerms {
		return fengqiao.Errorf(fengqiao.EINVALID, "检索文字最多%d个词（以空格分隔，引号内的短语算一个），收到%d个", MaxTextTerms, n)
	}
	return nil
}

// textTerms returns the terms a filter's text requires: none without text.
func textTerms(f fengqiao.EventFilter) []queryTerm {
	if f.Text == nil {
		return nil
	}
	return parseText(*f.Text)
}
