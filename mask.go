package fengqiao

import "strings"

// MaySeePersonalData reports whether p may see ID numbers and phones unmasked.
func (p *Principal) MaySeePersonalData() bool { return p != nil && p.Role == RoleCommander }

// MaskIDNumber keeps the first and last four characters: 3310**********1234.
func MaskIDNumber(s string) string { return maskMiddle(s, 4, 4) }

// MaskPhone keeps the first three and last four digits: 138****5678.
func MaskPhone(s string) string { return maskMiddle(s, 3, 4) }

func maskMiddle(s string, head, tail int) string {
	r := []rune(s)
	if len(r) <= head+tail {
		return strings.Repeat("*", len(r))
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}
