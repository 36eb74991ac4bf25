package world

import (
	"fmt"
	"math/bits"
	"time"

	"fengqiao"
)

// Resident is a synthetic person. ID numbers use the Wenling prefix 331081 with a
// sequence code of 9xx and phones start 1990000: plausible in shape, clearly fake.
// No two residents share an ID number.
type Resident struct {
	Name, IDNumber, Phone string
	Village               *fengqiao.OrgUnit
}

// Company is a synthetic company with a synthetic 统一社会信用代码. No two
// companies share a name.
type Company struct {
	Name, Industry, CreditCode string
	Town                       *fengqiao.OrgUnit
}

func (g *generator) name() string {
	given := g.pick(givenChars)
	if g.chance(0.8) {
		given += g.pick(givenChars)
	}
	return g.pick(surnames) + given
}

// idSequences is how many ID numbers one birth date has: the sequence code 9xx and
// the last digit, 000–999.
const idSequences = 1000

// resident makes a person with an ID number no one else has. Each birth date deals
// its 1,000 numbers in an order drawn when the date is first used, so a number is
// never drawn twice and never retried.
func (g *generator) resident() *Resident {
	day, seq := g.birthSequence(g.rnd.IntN(birthDays))
	birth := time.Date(1945+day/(12*28), time.Month(1+day/28%12), 1+day%28, 0, 0, 0, 0, time.UTC)
	return &Resident{
		Name:     g.name(),
		IDNumber: fmt.Sprintf("331081%s9%02d%d", birth.Format("20060102"), seq/10, seq%10),
		Phone:    fmt.Sprintf("1990000%04d", g.rnd.IntN(10000)),
		Village:  g.villages[g.rnd.IntN(len(g.villages))],
	}
}

// birthDays are the birth dates residents have: the 1st to the 28th of every month
// of 60 years from 1945.
const birthDays = 60 * 12 * 28

// birthSequence returns the next unused sequence of a birth date (a day counted
// from 1 January 1945), moving to the next date when one's numbers are all used,
// which takes a county of tens of millions.
func (g *generator) birthSequence(day int) (int, int) {
	for ; ; day++ {
		p, ok := g.births[day]
		if !ok {
			p = g.newPermutation(idSequences)
			g.births[day] = p
		}
		if seq, ok := p.next(); ok {
			return day, seq
		}
	}
}

// tradeName is the i-th trade name (字号): a word of companyWords, then one or
// more characters of companyWords2, the shortest names first, so that the first
// n names are n different ones for any n.
func tradeName(i int) string {
	tier := len(companyWords) * len(companyWords2)
	for i >= tier {
		i -= tier
		tier *= len(companyWords2)
	}
	name := companyWords[i%len(companyWords)]
	for i /= len(companyWords); tier > len(companyWords); tier /= len(companyWords2) {
		name += companyWords2[i%len(companyWords2)]
		i /= len(companyWords2)
	}
	return name
}

// companies makes n companies, no two of one name. As in a real county, firms of
// different industries may share a trade name (温岭市东海兴机电 and 温岭市东海兴鞋业),
// which the hub must not take for one firm: names are dealt, in an order drawn
// from the seed, from trade name × industry pairs five times as many as the
// firms, so that any scale has that confusion in the same measure.
func (g *generator) companies(n int) ([]*Company, error) {
	trades := max(len(companyWords)*len(companyWords2), (n+1)/2)
	pairs := g.newPermutation(trades * len(industries))
	out := make([]*Company, n)
	for i := range out {
		p, _ := pairs.next()
		industry := industries[p%len(industries)]
		out[i] = &Company{
			Name:     "温岭市" + tradeName(p/len(industries)) + industry + "有限公司",
			Industry: industry, CreditCode: fmt.Sprintf("91331081MA%07dX", 2800000+i),
			Town: g.towns[g.rnd.IntN(len(g.towns))],
		}
		if err := g.step(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// permutation deals 0..n-1 once each, in an order drawn from the seed, with no
// memory of what it has dealt. It walks a keyed bijection of [0, 2^m), 2^m ≥ n
// (rounds of multiplying by an odd number, adding, and folding the high bits into
// the low), until it lands below n: fewer than two steps on average, and always
// ending, since the walk from a number below n comes back to it.
type permutation struct {
	n, dealt int
	mask     uint64
	shift    uint
	keys     [4][2]uint64
}

func (g *generator) newPermutation(n int) *permutation {
	m := uint(bits.Len(uint(max(n-1, 0))))
	p := &permutation{n: n, mask: 1<<m - 1, shift: max(1, (m+1)/2)}
	for i := range p.keys {
		p.keys[i] = [2]uint64{g.rnd.Uint64() | 1, g.rnd.Uint64()}
	}
	return p
}

// next returns the next number, or false when all n have been dealt.
func (p *permutation) next() (int, bool) {
	if p.dealt == p.n {
		return 0, false
	}
	x := uint64(p.dealt)
	p.dealt++
	for {
		for _, k := range p.keys {
			x = (x*k[0] + k[1]) & p.mask
			x ^= x >> p.shift
		}
		if x < uint64(p.n) {
			return int(x), true
		}
	}
}
