// Package world generates the deterministic synthetic Wenling that the upstream
// simulators serve: people, companies and a year of hotline work orders and
// mediation cases in real towns and villages. It knows nothing of the hub's types:
// like a real government system, it only has its own records.
package world

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
	"unicode/utf8"

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
	// Progress, when set, is told now and then how many steps of the work (a
	// person, a company, a record) are done of about how many in all, and once at
	// the end with done = total. It does not change the world.
	Progress func(done, total int)
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

// MaxScale is the largest Scale Generate makes: twenty years' volume.
const MaxScale = 20

// Generate makes the world for cfg; see GenerateContext.
func Generate(cfg Config) *World {
	w, err := GenerateContext(context.Background(), cfg)
	if err != nil {
		panic(err)
	}
	return w
}

// GenerateContext makes the world for cfg. It returns ctx's error, and no world,
// if ctx ends first, and an error if cfg.Scale is beyond MaxScale. Time and memory
// grow in proportion to Scale.
func GenerateContext(ctx context.Context, cfg Config) (*World, error) {
	if cfg.Scale > MaxScale {
		return nil, fmt.Errorf("模拟数据规模最大为 %d：%g", MaxScale, cfg.Scale)
	}
	g := &generator{rnd: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)), cfg: cfg, ctx: ctx, births: map[int]*permutation{},
		start: cfg.End.AddDate(-1, 0, 0)}
	w := &World{Tree: fengqiao.Wenling(), Truth: map[string]string{}}
	g.world = w
	g.villages = w.Tree.Units(fengqiao.LevelVillage)
	g.towns = w.Tree.Units(fengqiao.LevelTown)
	// Wenling has ~1.4 M people and ~60,000 firms; the pools keep each person's and
	// each firm's share of the year's records about what it is there.
	people, companies := max(2000, int(200000*cfg.Scale)), max(200, int(60000*cfg.Scale))
	projects, devices := max(8, int(ProjectsInAll*min(1, cfg.Scale*5))), max(20, int(DevicesInAll*cfg.Scale))
	g.total = people + companies + projects + devices + g.backgroundRecords() + g.matterCount()
	// surveys visit the hotline and mediation records, most of them background ones
	g.total += g.count(HotlinePerYear) + g.count(MediationPerYear)

	w.People = make([]*Resident, 0, people)
	for range people {
		w.People = append(w.People, g.resident())
		if err := g.step(); err != nil {
			return nil, err
		}
	}
	var err error
	if w.Companies, err = g.companies(companies); err != nil {
		return nil, err
	}
	for i := range projects {
		w.Projects = append(w.Projects, g.project(i))
		if err := g.step(); err != nil {
			return nil, err
		}
	}
	for i := range devices {
		w.Devices = append(w.Devices, g.device(i))
		if err := g.step(); err != nil {
			return nil, err
		}
	}
	for _, part := range []func() error{g.background, g.matters, g.surveys} {
		if err := part(); err != nil {
			return nil, err
		}
	}
	if g.cfg.Progress != nil {
		g.cfg.Progress(g.total, g.total)
	}
	return w, nil
}

// count scales an annual volume, at least one.
func (g *generator) count(perYear int) int { return max(1, int(float64(perYear)*g.cfg.Scale)) }

// backgroundRecords is how many records background makes.
func (g *generator) backgroundRecords() int {
	return g.count(HotlinePerYear) + g.count(MediationPerYear) + g.count(PolicePerYear) + g.count(CourtPerYear) + g.count(CityPerYear)
}

// background makes the records that belong to no matter.
func (g *generator) background() error {
	for _, kind := range []struct {
		perYear   int
		templates []template
		add       func(*story)
	}{
		{HotlinePerYear, hotlineTemplates, func(st *story) { g.addHotline(st) }},
		{MediationPerYear, mediationTemplates, func(st *story) { g.addMediation(st) }},
		{PolicePerYear, policeTemplates, func(st *story) { g.addPolice(st) }},
		{CourtPerYear, courtTemplates, func(st *story) { g.addCourt(st) }},
		{CityPerYear, cityTemplates, func(st *story) { g.addCity(st) }},
	} {
		for range g.count(kind.perYear) {
			kind.add(g.randomStory(kind.templates))
			if err := g.step(); err != nil {
				return err
			}
		}
	}
	return nil
}

// progressEvery is how many steps go between reports of progress and checks of
// the context.
const progressEvery = 4096

// step counts one step of work done: a person, a company, a record or a storyline.
// Now and then it reports progress, and it returns the context's error once it
// has ended.
func (g *generator) step() error {
	g.done++
	if g.done%progressEvery != 0 {
		return nil
	}
	if g.cfg.Progress != nil {
		g.cfg.Progress(g.done, max(g.total, g.done))
	}
	return g.ctx.Err()
}

type generator struct {
	rnd         *rand.Rand
	cfg         Config
	ctx         context.Context
	start       time.Time // when the generated year begins
	done, total int       // steps of work, for progress
	world       *World
	villages    []*fengqiao.OrgUnit
	towns       []*fengqiao.OrgUnit
	births      map[int]*permutation // ID number sequences dealt, by birth date
	text        []byte               // fill's buffer
}

func (g *generator) pick(list []string) string { return list[g.rnd.IntN(len(list))] }

func (g *generator) chance(p float64) bool { return g.rnd.Float64() < p }

// at returns a time in the generated year, busier in daytime.
func (g *generator) at() time.Time {
	day := g.start.Add(time.Duration(g.rnd.IntN(365)) * 24 * time.Hour)
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
	return "温岭市" + v.Parent().Name + v.Name + g.pick(roads) + strconv.Itoa(1+g.rnd.IntN(300)) + "号"
}

// fill replaces the slots of a text template from a story: {村} village, {地} a
// place in it, {企} company, {项} project, {盘} housing estate, {人} someone,
// {数} a count, {额} an amount of money.
func (g *generator) fill(tpl string, st *story) string {
	b := g.text[:0]
	for i := 0; i < len(tpl); {
		slot, size := utf8.DecodeRuneInString(tpl[min(i+1, len(tpl)):])
		if tpl[i] != '{' || i+1+size >= len(tpl) || tpl[i+1+size] != '}' {
			b = append(b, tpl[i])
			i++
			continue
		}
		switch slot {
		case '村':
			b = append(b, st.village.Name...)
		case '地':
			b = append(append(append(b, st.village.Name...), g.pick(roads)...), g.pick(places)...)
		case '企':
			b = append(b, st.company.Name...)
		case '项':
			b = append(b, st.projectName()...)
		case '盘':
			b = append(b, st.estate...)
		case '人':
			b = append(b, g.name()...)
		case '数':
			b = strconv.AppendInt(b, int64(3+g.rnd.IntN(60)), 10)
		case '额':
			b = append(strconv.AppendInt(b, int64(1+g.rnd.IntN(80)), 10), "万元"...)
		}
		i += 2 + size
	}
	g.text = b
	return string(b) // exactly the text's size: the world keeps every one
}
