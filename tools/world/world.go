// Package world generates the deterministic synthetic Wenling that the upstream
// simulators serve: people, companies and a year of hotline work orders and
// mediation cases in real towns and villages. It knows nothing of the hub's types:
// like a real government system, it only has its own records.
package world

import (
	"fmt"
	"math/rand/v2"
	"time"

	"fengqiao"
)

// Config says what world to make. The same Config always makes the same world.
type Config struct {
	Seed int64
	// Scale is the share of a real year's volume (1 = about 150,000 hotline work
	// orders and 26,538 mediation cases, as in Wenling).
	Scale float64
	// End is when the generated year ends; records fall in [End-1y, End).
	End time.Time
	// MalformedRate is the share of records served broken, as upstreams sometimes do.
	MalformedRate float64
}

// Annual volumes at Scale 1.
const (
	HotlinePerYear   = 150000
	MediationPerYear = 26538
)

// Resident is a synthetic person. ID numbers use the Wenling prefix 331081 with a
// sequence code of 9xx and phones start 1990000: plausible in shape, clearly fake.
type Resident struct {
	Name, IDNumber, Phone string
	Village               *fengqiao.OrgUnit
}

// Company is a synthetic company with a synthetic 统一社会信用代码.
type Company struct {
	Name, CreditCode string
	Town             *fengqiao.OrgUnit
}

// World is everything the simulators serve.
type World struct {
	Tree      *fengqiao.OrgTree
	People    []*Resident
	Companies []*Company
	Hotline   []*HotlineOrder
	Mediation []*MediationCase
}

// Generate makes the world for cfg.
func Generate(cfg Config) *World {
	g := &generator{rnd: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)), cfg: cfg}
	w := &World{Tree: fengqiao.Wenling()}
	g.villages = w.Tree.Units(fengqiao.LevelVillage)
	g.towns = w.Tree.Units(fengqiao.LevelTown)
	people := max(200, int(20000*cfg.Scale))
	for range people {
		w.People = append(w.People, g.resident())
	}
	for i := range max(40, int(2000*cfg.Scale)) {
		w.Companies = append(w.Companies, g.company(i))
	}
	g.world = w
	for i := range max(1, int(HotlinePerYear*cfg.Scale)) {
		w.Hotline = append(w.Hotline, g.hotlineOrder(i))
	}
	for i := range max(1, int(MediationPerYear*cfg.Scale)) {
		w.Mediation = append(w.Mediation, g.mediationCase(i))
	}
	return w
}

type generator struct {
	rnd      *rand.Rand
	cfg      Config
	world    *World
	villages []*fengqiao.OrgUnit
	towns    []*fengqiao.OrgUnit
}

func (g *generator) pick(list []string) string { return list[g.rnd.IntN(len(list))] }

func (g *generator) chance(p float64) bool { return g.rnd.Float64() < p }

func (g *generator) name() string {
	given := g.pick(givenChars)
	if g.chance(0.8) {
		given += g.pick(givenChars)
	}
	return g.pick(surnames) + given
}

func (g *generator) resident() *Resident {
	birth := time.Date(1945+g.rnd.IntN(60), time.Month(1+g.rnd.IntN(12)), 1+g.rnd.IntN(28), 0, 0, 0, 0, time.UTC)
	return &Resident{
		Name:     g.name(),
		IDNumber: fmt.Sprintf("331081%s9%02d%d", birth.Format("20060102"), g.rnd.IntN(100), g.rnd.IntN(10)),
		Phone:    fmt.Sprintf("1990000%04d", g.rnd.IntN(10000)),
		Village:  g.villages[g.rnd.IntN(len(g.villages))],
	}
}

func (g *generator) company(i int) *Company {
	town := g.towns[g.rnd.IntN(len(g.towns))]
	return &Company{
		Name:       fmt.Sprintf("温岭市%s%s有限公司", g.pick(companyWords), g.pick(industries)),
		CreditCode: fmt.Sprintf("91331081MA%07dX", 2800000+i),
		Town:       town,
	}
}

// at returns a time in the generated year, busier in daytime.
func (g *generator) at() time.Time {
	start := g.cfg.End.AddDate(-1, 0, 0)
	day := start.Add(time.Duration(g.rnd.IntN(365)) * 24 * time.Hour)
	return day.Add(time.Duration(7*3600+g.rnd.IntN(14*3600)) * time.Second)
}

// after returns a time d..2d after t, capped at the end of the world.
func (g *generator) after(t time.Time, d time.Duration) time.Time {
	u := t.Add(d + time.Duration(g.rnd.Int64N(int64(d))))
	if u.After(g.cfg.End) {
		return g.cfg.End.Add(-time.Second)
	}
	return u
}

func (g *generator) address(v *fengqiao.OrgUnit) string {
	return fmt.Sprintf("温岭市%s%s%s%d号", v.Parent().Name, v.Name, g.pick(roads), 1+g.rnd.IntN(300))
}

// fill replaces the slots of a text template: {村} village, {地} place, {企} company,
// {人} a name, {数} a count, {额} an amount of money.
func (g *generator) fill(tpl string, v *fengqiao.OrgUnit, company string) string {
	out := []rune{}
	rs := []rune(tpl)
	for i := 0; i < len(rs); i++ {
		if rs[i] == '{' && i+2 < len(rs) && rs[i+2] == '}' {
			switch rs[i+1] {
			case '村':
				out = append(out, []rune(v.Name)...)
			case '地':
				out = append(out, []rune(v.Name+g.pick(roads)+g.pick(places))...)
			case '企':
				out = append(out, []rune(company)...)
			case '人':
				out = append(out, []rune(g.name())...)
			case '数':
				out = append(out, []rune(fmt.Sprint(3+g.rnd.IntN(60)))...)
			case '额':
				out = append(out, []rune(fmt.Sprintf("%d万元", 1+g.rnd.IntN(80)))...)
			}
			i += 2
			continue
		}
		out = append(out, rs[i])
	}
	return string(out)
}
