// Package world generates the deterministic synthetic Wenling that the upstream
// simulators serve: people, companies and a year of hotline work orders and
// mediation cases in real towns and villages. It knows nothing of the hub's types:
// like a real government system, it only has its own records.
package world

import (
	"fmt"
	"math/rand/v2"
	"strings"
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

// Annual volumes of background records at Scale 1; the matters (see matters.go)
// add their own records on top.
const (
	HotlinePerYear   = 150000
	MediationPerYear = 26538
	PolicePerYear    = 40000 // all 110 calls; about 60% are disputes
	CourtPerYear     = 15000 // civil and commercial filings
	CityPerYear      = 30000 // city-management enforcement cases
	ProjectsInAll    = 240   // key projects in the registry
	DevicesInAll     = 8000  // sensors and cameras that push alerts
)

// Resident is a synthetic person. ID numbers use the Wenling prefix 331081 with a
// sequence code of 9xx and phones start 1990000: plausible in shape, clearly fake.
type Resident struct {
	Name, IDNumber, Phone string
	Village               *fengqiao.OrgUnit
}

// Company is a synthetic company with a synthetic 统一社会信用代码.
type Company struct {
	Name, Industry, CreditCode string
	Town                       *fengqiao.OrgUnit
}

// World is everything the simulators serve, and the truth they do not.
type World struct {
	Tree      *fengqiao.OrgTree
	People    []*Resident
	Companies []*Company
	Projects  []*Project
	Devices   []*Device
	Hotline   []*HotlineOrder
	Mediation []*MediationCase
	Police    []*PoliceIncident
	Court     []*CourtCase
	City      []*CityCase
	Surveys   []*Survey

	// Truth names the matter each record of a matter belongs to, keyed
	// "SOURCE:source id" like the hub's event ids. Records of no matter are absent.
	// The simulators never serve it: it is for measuring the hub's chains.
	Truth map[string]string
}

// Generate makes the world for cfg.
func Generate(cfg Config) *World {
	g := &generator{rnd: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)), cfg: cfg}
	w := &World{Tree: fengqiao.Wenling()}
	g.villages = w.Tree.Units(fengqiao.LevelVillage)
	g.towns = w.Tree.Units(fengqiao.LevelTown)
	// Wenling has ~1.4 M people and ~60,000 firms; the pools keep each person's and
	// each firm's share of the year's records about what it is there.
	for range max(2000, int(200000*cfg.Scale)) {
		w.People = append(w.People, g.resident())
	}
	names := map[string]bool{}
	for i := range max(200, int(60000*cfg.Scale)) {
		w.Companies = append(w.Companies, g.company(i, names))
	}
	g.world = w
	w.Truth = map[string]string{}
	for i := range max(8, int(ProjectsInAll*min(1, cfg.Scale*5))) {
		w.Projects = append(w.Projects, g.project(i))
	}
	for i := range max(20, int(DevicesInAll*cfg.Scale)) {
		w.Devices = append(w.Devices, g.device(i))
	}
	g.background()
	g.matters()
	g.surveys()
	return w
}

// count scales an annual volume, at least one.
func (g *generator) count(perYear int) int { return max(1, int(float64(perYear)*g.cfg.Scale)) }

// background makes the records that belong to no matter.
func (g *generator) background() {
	for range g.count(HotlinePerYear) {
		g.addHotline(g.randomStory(hotlineTemplates))
	}
	for range g.count(MediationPerYear) {
		g.addMediation(g.randomStory(mediationTemplates))
	}
	for range g.count(PolicePerYear) {
		g.addPolice(g.randomStory(policeTemplates))
	}
	for range g.count(CourtPerYear) {
		g.addCourt(g.randomStory(courtTemplates))
	}
	for range g.count(CityPerYear) {
		g.addCity(g.randomStory(cityTemplates))
	}
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

// company makes a company with a name no other company has.
func (g *generator) company(i int, taken map[string]bool) *Company {
	town := g.towns[g.rnd.IntN(len(g.towns))]
	industry := g.pick(industries)
	name := ""
	for name == "" || taken[name] {
		name = fmt.Sprintf("温岭市%s%s%s有限公司", g.pick(companyWords), g.pick(companyWords2), industry)
	}
	taken[name] = true
	return &Company{Name: name, Industry: industry, CreditCode: fmt.Sprintf("91331081MA%07dX", 2800000+i), Town: town}
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

// fill replaces the slots of a text template from a story: {村} village, {地} a
// place in it, {企} company, {项} project, {盘} housing estate, {人} someone,
// {数} a count, {额} an amount of money.
func (g *generator) fill(tpl string, st *story) string {
	var b strings.Builder
	rs := []rune(tpl)
	for i := 0; i < len(rs); i++ {
		if rs[i] != '{' || i+2 >= len(rs) || rs[i+2] != '}' {
			b.WriteRune(rs[i])
			continue
		}
		switch rs[i+1] {
		case '村':
			b.WriteString(st.village.Name)
		case '地':
			b.WriteString(st.village.Name + g.pick(roads) + g.pick(places))
		case '企':
			b.WriteString(st.company.Name)
		case '项':
			b.WriteString(st.projectName())
		case '盘':
			b.WriteString(st.estate)
		case '人':
			b.WriteString(g.name())
		case '数':
			b.WriteString(fmt.Sprint(3 + g.rnd.IntN(60)))
		case '额':
			b.WriteString(fmt.Sprintf("%d万元", 1+g.rnd.IntN(80)))
		}
		i += 2
	}
	return b.String()
}
