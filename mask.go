package fengqiao

import (
	"regexp"
	"strings"
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

// personalNumber matches what may be an ID number or a phone inside free text: a
// run of seven or more digits, an ID number's final X included.
var personalNumber = regexp.MustCompile(`\d{7,}[Xx]?`)

// MaskNumbers masks every ID number and phone in free text (a raw upstream record):
// 18- and 15-digit runs as ID numbers, other runs of seven or more digits as phones.
func MaskNumbers(s string) string {
	return personalNumber.ReplaceAllStringFunc(s, func(n string) string {
		if len(n) == 18 || len(n) == 15 {
			return MaskIDNumber(n)
		}
		return MaskPhone(n)
	})
}

// IsPersonalIdentifier reports whether an identifier searched for may be an ID
// number or a phone: once spaces, dashes, brackets and a leading + are set aside,
// seven or more digits (an ID number's final X allowed) and nothing else. Case and
// work-order numbers, credit codes and project codes carry letters or Chinese.
func IsPersonalIdentifier(s string) bool {
	digits := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -()+（）", r) {
			return -1
		}
		return r
	}, s)
	return personalNumber.MatchString(digits) && personalNumber.FindString(digits) == digits
}
