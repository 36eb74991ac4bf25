package world

import (
	"fmt"
	"strconv"
	"time"

	"fengqiao"
)

// Matters per year at Scale 1, each a storyline told by several upstreams.
const (
	WageMattersPerYear      = 200 // wage arrears at a construction project
	NeighbourMattersPerYear = 300 // a neighbour dispute escalating grid → 110 → court
	GymMattersPerYear       = 10  // a prepaid gym closing on hundreds of members
	EstateMattersPerYear    = 20  // a housing estate with defects and an angry estate
)

// matterCount is how many storylines matters makes.
func (g *generator) matterCount() int {
	return g.count(WageMattersPerYear) + g.count(NeighbourMattersPerYear) + g.count(GymMattersPerYear) + g.count(EstateMattersPerYear)
}

// matters makes the storylines, writing down which records tell each.
func (g *generator) matters() error {
	for _, kind := range []struct {
		name    string
		perYear int
		tell    func(id string)
	}{
		{"wage", WageMattersPerYear, g.wageMatter},
		{"neighbour", NeighbourMattersPerYear, g.neighbourMatter},
		{"gym", GymMattersPerYear, g.gymMatter},
		{"estate", EstateMattersPerYear, g.estateMatter},
	} {
		for i := range g.count(kind.perYear) {
			kind.tell(kind.name + "-" + strconv.Itoa(i))
			if err := g.step(); err != nil {
				return err
			}
		}
	}
	return nil
}

// crowd returns n residents of the town of v (workers, members, owners).
func (g *generator) crowd(v *fengqiao.OrgUnit, n int) []*Resident {
	var out []*Resident
	people := g.world.People
	for len(out) < n {
		p := people[g.rnd.IntN(len(people))]
		if p.Village.Parent() == v.Parent() || g.chance(0.3) {
			out = append(out, p)
		}
	}
	return out
}

// wageMatter: a contractor stops paying the workers of a key construction project;
// workers call 12345 and 110, the town mediates collectively, some go to court.
func (g *generator) wageMatter(id string) {
	w := g.world
	p := w.Projects[g.rnd.IntN(len(w.Projects))]
	v := w.Tree.Unit(p.SZQH)
	contractor := w.Companies[g.rnd.IntN(len(w.Companies))]
	base := &story{matter: id, village: v, company: contractor, address: p.XMDZ,
		project: p}
	t0 := g.at()
	workers := g.crowd(v, 8+g.rnd.IntN(30))
	for _, worker := range workers {
		st := *base
		st.person = worker
		if g.chance(0.5) {
			g.addHotline(st.with(wageHotline, g.after(t0, 3*24*time.Hour)))
		}
		if g.chance(0.2) {
			g.addPolice(st.with(wagePolice, g.after(t0, 5*24*time.Hour)))
		}
		if g.chance(0.12) {
			g.addCourt(st.with(wageCourt, g.after(t0, 50*24*time.Hour)))
		}
	}
	st := *base
	st.person, st.co = workers[0], workers[1:min(len(workers), 5)]
	g.addMediation(st.with(wageMediation, g.after(t0, 10*24*time.Hour)))
}

// neighbourMatter: two households fall out; the grid worker mediates, then it
// comes to blows and 110, then to court.
func (g *generator) neighbourMatter(id string) {
	w := g.world
	a := w.People[g.rnd.IntN(len(w.People))]
	b := g.neighbourOf(a)
	st := &story{matter: id, village: a.Village, person: a, other: b, address: g.address(a.Village),
		company: w.Companies[0]}
	t0 := g.at()
	g.addMediation(st.with(neighbourMediation, t0))
	if g.chance(0.7) {
		t1 := g.after(t0, 15*24*time.Hour)
		g.addPolice(st.with(neighbourPolice, t1))
		if g.chance(0.5) {
			g.addCourt(st.with(neighbourCourt, g.after(t1, 30*24*time.Hour)))
		}
	}
}

// neighbourOf returns another resident of a's village, or anyone if there is none.
func (g *generator) neighbourOf(a *Resident) *Resident {
	people := g.world.People
	for range 200 {
		if p := people[g.rnd.IntN(len(people))]; p != a && p.Village == a.Village {
			return p
		}
	}
	other := *people[g.rnd.IntN(len(people))]
	other.Village = a.Village
	return &other
}

// gymMatter: a gym sells prepaid cards and closes; its members complain en masse.
func (g *generator) gymMatter(id string) {
	gym := g.companyIn("健身服务")
	v := g.villages[g.rnd.IntN(len(g.villages))]
	base := &story{matter: id, village: v, company: gym, address: g.address(v)}
	t0 := g.at()
	members := g.crowd(v, max(20, int(300*min(1, g.cfg.Scale*20))))
	for _, m := range members {
		st := *base
		st.person = m
		if g.chance(0.7) {
			g.addHotline(st.with(gymHotline, g.after(t0, 5*24*time.Hour)))
		}
		if g.chance(0.04) {
			g.addPolice(st.with(gymPolice, g.after(t0, 24*time.Hour)))
		}
		if g.chance(0.03) {
			g.addCourt(st.with(gymCourt, g.after(t0, 60*24*time.Hour)))
		}
	}
	st := *base
	st.person, st.co = members[0], members[1:5]
	g.addMediation(st.with(gymMediation, g.after(t0, 7*24*time.Hour)))
}

// estateMatter: a new housing estate with defects; owners complain, build illegally,
// and refuse the property fee.
func (g *generator) estateMatter(id string) {
	developer := g.companyIn("房地产开发")
	v := g.villages[g.rnd.IntN(len(g.villages))]
	estate := v.Name + g.pick(estates)
	base := &story{matter: id, village: v, company: developer, estate: estate,
		address: fmt.Sprintf("温岭市%s%s%s", v.Parent().Name, v.Name, estate)}
	t0 := g.at()
	owners := g.crowd(v, 15+g.rnd.IntN(40))
	for i, o := range owners {
		st := *base
		st.person = o
		st.address = fmt.Sprintf("%s%d幢%d室", base.address, 1+i%12, 101+g.rnd.IntN(1800))
		if g.chance(0.8) {
			g.addHotline(st.with(estateHotline, g.after(t0, 20*24*time.Hour)))
		}
		if g.chance(0.1) {
			g.addCity(st.with(estateCity, g.after(t0, 30*24*time.Hour)))
		}
		if g.chance(0.08) {
			g.addMediation(st.with(estateMediation, g.after(t0, 40*24*time.Hour)))
		}
	}
}

// companyIn returns a company of an industry, or any company.
func (g *generator) companyIn(industry string) *Company {
	cs := g.world.Companies
	for range 500 {
		if c := cs[g.rnd.IntN(len(cs))]; c.Industry == industry {
			return c
		}
	}
	return cs[g.rnd.IntN(len(cs))]
}
