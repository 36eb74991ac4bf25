package fengqiao

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// MaySeePersonalData reports whether p may see ID numbers and phones unmasked.
func (p *Principal) MaySeePersonalData() bool { return p != nil && p.Role == RoleCommander }

// MaskIDNumber keeps the first and last four characters: 3310**********1234.
func MaskIDNumber(s string) string { return maskMiddle(s, 4, 4) }

// MaskPhone keeps the first three and last four digits: 138****5678.
func MaskPhone(s string) string { return maskMiddle(s, 3, 4) }

// MaskIdentifier masks an identifier's value by its scheme; an app's account keeps
// its first character and last two: A*******48.
func MaskIdentifier(id Identifier) Identifier {
	switch id.Scheme {
	case SchemeIDNumber:
		id.Value = MaskIDNumber(id.Value)
	case SchemePhone:
		id.Value = MaskPhone(id.Value)
	default:
		id.Value = maskMiddle(id.Value, 1, 2)
	}
	return id
}

func maskMiddle(s string, head, tail int) string {
	r := []rune(s)
	if len(r) <= head+tail {
		return strings.Repeat("*", len(r))
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}

// personalNumber matches what may be an ID number or a phone inside free text:
// seven or more digits of any script (full-width ones too), in groups of three or
// more that single spaces or dashes may part (138-0000-1111, but not a date's
// 2026-05-01), an ID number's final X included.
var personalNumber = regexp.MustCompile(`\p{Nd}{3,}(?:[-\s\x{00A0}\x{3000}－—]?\p{Nd}{3,})*[XxＸｘ]?`)

// MaskNumbers masks every ID number and phone in free text (a raw upstream record,
// a quarantine reason, an audited search): runs of 18 or 15 digits as ID numbers,
// other runs of seven or more as phones. Only digits are masked; separators stay.
// A run joined to Latin letters is part of a code (a credit code, a work-order
// number) and stays as it is.
func MaskNumbers(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range personalNumber.FindAllStringIndex(s, -1) {
		n := s[m[0]:m[1]]
		head, tail := 3, 4
		switch d := countDigits(n); {
		case d < 7 || latinAt(s[:m[0]], true) || latinAt(s[m[1]:], false):
			continue
		case d == 18 || d == 15:
			head = 4
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(maskDigits(n, head, tail))
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// latinAt reports whether s ends (before) or begins (after) with a Latin letter.
func latinAt(s string, before bool) bool {
	var r rune
	if before {
		r, _ = utf8.DecodeLastRuneInString(s)
	} else {
		r, _ = utf8.DecodeRuneInString(s)
	}
	return r < utf8.RuneSelf && unicode.IsLetter(r)
}

// maskDigits replaces the digits (an ID number's final X counted as one) of n with '*', but for the first
// head and the last tail of them.
func maskDigits(n string, head, tail int) string {
	total, i := countDigits(n), 0
	return strings.Map(func(r rune) rune {
		if !unicode.IsDigit(r) && !strings.ContainsRune("XxＸｘ", r) {
			return r
		}
		i++
		if i > head && i <= total-tail {
			return '*'
		}
		return r
	}, n)
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) || strings.ContainsRune("XxＸｘ", r) {
			n++
		}
	}
	return n
}

// NormalizeIdentifier is an identifier as searched for: full-width characters
// folded to ASCII (１３８ → 138), spaces of every kind trimmed.
func NormalizeIdentifier(s string) string {
	return strings.TrimSpace(width.Fold.String(s))
}

// IsPersonalIdentifier reports whether an identifier searched for may be an ID
// number or a phone: once everything but letters and digits is set aside, seven or
// more digits of any script (an ID number's final X allowed) and nothing else. Case
// and work-order numbers, credit codes and project codes carry other letters or
// Chinese.
func IsPersonalIdentifier(s string) bool {
	kept := []rune(strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, width.Fold.String(s)))
	if n := len(kept); n > 0 && (kept[n-1] == 'X' || kept[n-1] == 'x') {
		kept = kept[:n-1]
	}
	for _, r := range kept {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return len(kept) >= 7
}
