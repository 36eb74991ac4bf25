package chains

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// NormalizeText folds a text for comparison: full-width letters and digits to
// half-width, upper case to lower, and every space, punctuation mark and symbol
// removed. "华庭小区，３号楼！" and "华庭小区3号楼" fold alike.
func NormalizeText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if f := width.LookupRune(r).Folded(); f != 0 {
			r = f
		}
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsControl(r) || r == utf8.RuneError {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Shingles returns the sorted, distinct hashes of the n-character runs of a
// normalized text (a text shorter than n is one run).
func Shingles(norm string, n int) []uint32 {
	rs := []rune(norm)
	if len(rs) == 0 {
		return nil
	}
	out := make([]uint32, 0, max(1, len(rs)-n+1))
	for i := 0; i == 0 || i+n <= len(rs); i++ {
		h := uint32(2166136261) // FNV-1a over the runes
		for _, r := range rs[i:min(i+n, len(rs))] {
			h = (h ^ uint32(r)) * 16777619
		}
		out = append(out, h)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// intersect counts the common elements of two sorted sets.
func intersect(a, b []uint32) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return n
}

// Jaccard is |a∩b| / |a∪b| of two sorted shingle sets; 0 when either is empty.
func Jaccard(a, b []uint32) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n := intersect(a, b)
	return float64(n) / float64(len(a)+len(b)-n)
}

// Containment is the share of the smaller of two sorted shingle sets found in
// the other: 1 when one text holds the whole of the other (a sentence added).
func Containment(a, b []uint32) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	return float64(intersect(a, b)) / float64(min(len(a), len(b)))
}

// SketchSize is the number of MinHash values in a Sketch; SketchBands ×
// SketchRows of them make the LSH bands that find candidates.
const (
	SketchSize  = 64
	SketchBands = 16
	SketchRows  = SketchSize / SketchBands
)

// Sketch is the MinHash signature of a text's shingles (one permutation hashing
// into SketchSize bins, empty bins filled by optimal densification, 16 bits kept
// of each minimum). The share of equal values of two sketches estimates the
// Jaccard similarity of their texts (±0.06 at 0.8), whatever their length.
type Sketch struct {
	Values [SketchSize]uint16
	// Size is the number of shingles sketched (capped at 65535); 0 for an empty text.
	Size uint16
}

// NewSketch sketches a sorted shingle set.
func NewSketch(shingles []uint32) Sketch {
	var s Sketch
	if len(shingles) == 0 {
		return s
	}
	s.Size = uint16(min(len(shingles), 0xffff))
	var mins [SketchSize]uint64
	for i := range mins {
		mins[i] = ^uint64(0)
	}
	for _, x := range shingles {
		h := mix64(uint64(x))
		bin := h >> (64 - 6) // SketchSize = 64 bins
		if v := h & (1<<58 - 1); v < mins[bin] {
			mins[bin] = v
		}
	}
	for bin := range mins {
		src := uint64(bin)
		// Optimal densification: an empty bin copies the bin a hash of
		// (bin, attempt) picks, the same for every text.
		for attempt := uint64(1); mins[src] == ^uint64(0); attempt++ {
			src = mix64(uint64(bin)<<32|attempt) % SketchSize
		}
		s.Values[bin] = uint16(mins[src] >> 20)
	}
	return s
}

// Jaccard estimates the Jaccard similarity of the texts of two sketches.
func (s *Sketch) Jaccard(o *Sketch) float64 {
	if s.Size == 0 || o.Size == 0 {
		return 0
	}
	same := 0
	for i := range s.Values {
		if s.Values[i] == o.Values[i] {
			same++
		}
	}
	return float64(same) / SketchSize
}

// Containment estimates the share of the smaller text's shingles found in the
// other, from the estimated Jaccard similarity and the two sizes.
func (s *Sketch) Containment(o *Sketch) float64 {
	j := s.Jaccard(o)
	if j == 0 {
		return 0
	}
	a, b := float64(s.Size), float64(o.Size)
	// |A∩B| = J(|A|+|B|)/(1+J)
	return min(1, j*(a+b)/(1+j)/min(a, b))
}

// mix64 is SplitMix64's finalizer: a fast, well-spread hash of a 64-bit value.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// keyHash hashes an evidence key for the in-memory postings (FNV-1a, 64 bits,
// top bit clear so that it never equals a band key).
func keyHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h &^ (1 << 63)
}

// textHash identifies a normalized text exactly.
func textHash(norm string) uint64 {
	return mix64(keyHash(norm) ^ uint64(len(norm)))
}

// Text is what comparing two reports needs of each: the shingles of its whole
// normalized text (title and content), their sketch, and the bigrams of its
// subject (its title).
type Text struct {
	Norm     string   // title and content, normalized
	Shingles []uint32 // 3-character shingles of Norm
	Sketch   Sketch
	Subject  []uint32 // 2-character shingles of the subject
}

// NewText prepares a report for comparison. The names given are left out of its
// subject: the divisions the report lies in (its village, town, county), the
// people and the targets it names, so that two reports are not alike for coming
// from one village or naming one person or estate (卢某与王某相邻关系纠纷 is
// about 相邻关系纠纷).
func NewText(title, content string, names ...string) Text {
	norm := NormalizeText(title + content)
	t := Text{Norm: norm, Shingles: Shingles(norm, 3)}
	t.Sketch = NewSketch(t.Shingles)
	t.Subject = SubjectShingles(title, content, names...)
	return t
}

// SubjectShingles returns the bigrams of what a report is about: its title, or
// the start of its content when it has none, without the names given.
func SubjectShingles(title, content string, names ...string) []uint32 {
	subject := NormalizeText(title)
	if utf8.RuneCountInString(subject) < 2 {
		subject = NormalizeText(firstSentence(content, 40))
	}
	for _, n := range names {
		if n = NormalizeText(n); n != "" {
			subject = strings.ReplaceAll(subject, n, "\x00")
		}
	}
	// What is left between the names, each piece on its own: 反映|拖欠工资 does
	// not make 映拖.
	var out []uint32
	for _, piece := range strings.Split(subject, "\x00") {
		if utf8.RuneCountInString(piece) >= 2 {
			out = append(out, Shingles(piece, 2)...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// firstSentence returns a text up to its first full stop, at most n characters.
func firstSentence(s string, n int) string {
	if i := strings.IndexAny(s, "。！？!?\n"); i > 0 {
		s = s[:i]
	}
	if rs := []rune(s); len(rs) > n {
		s = string(rs[:n])
	}
	return s
}

// Similarity scores how alike two reports are, 0 to 1: the Jaccard similarity of
// their whole texts' shingles (1 for the same normalized text).
func Similarity(a, b *Text) float64 {
	if a.Norm != "" && a.Norm == b.Norm {
		return 1
	}
	return Jaccard(a.Shingles, b.Shingles)
}

// SubjectSimilarity scores how alike two reports' subjects are, 0 to 1: their
// subjects' bigrams or their whole texts, whichever are closer.
func SubjectSimilarity(a, b *Text) float64 {
	return max(Jaccard(a.Subject, b.Subject), Similarity(a, b))
}

// nameShingles returns the sorted bigrams of names.
func nameShingles(names ...string) []uint32 {
	var out []uint32
	for _, n := range names {
		if n = NormalizeText(n); utf8.RuneCountInString(n) >= 2 {
			out = append(out, Shingles(n, 2)...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// union merges two sorted sets into buf.
func union(buf, a, b []uint32) []uint32 {
	buf = append(append(buf[:0], a...), b...)
	slices.Sort(buf)
	return slices.Compact(buf)
}
