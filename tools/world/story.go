package world

import (
	"time"

	"fengqiao"
)

// story is what one record tells: who, where, when, against whom, and the text
// template it is written from. Records of one matter share a story's parts.
type story struct {
	matter  string // "" for a record of no matter
	tpl     template
	at      time.Time
	village *fengqiao.OrgUnit
	person  *Resident // who calls, applies or sues
	other   *Resident // the other side, when a person
	company *Company  // the other side, or the company named
	project *Project
	estate  string // housing estate, when the matter is one
	address string
	// extra people on the same side (a collective dispute's co-applicants)
	co []*Resident
}

func (st *story) projectName() string {
	if st.project == nil {
		return ""
	}
	return st.project.XMMC
}

// randomStory is a story of no matter: anyone, anywhere, any day of the year.
func (g *generator) randomStory(templates []template) *story {
	w := g.world
	st := &story{
		tpl:     templates[g.rnd.IntN(len(templates))],
		at:      g.at(),
		person:  w.People[g.rnd.IntN(len(w.People))],
		other:   w.People[g.rnd.IntN(len(w.People))],
		company: w.Companies[g.rnd.IntN(len(w.Companies))],
	}
	st.village = st.person.Village
	if g.chance(0.3) {
		st.village = g.villages[g.rnd.IntN(len(g.villages))]
	}
	st.address = g.address(st.village)
	return st
}

// with returns a copy of st told from template t at time at.
func (st story) with(t template, at time.Time) *story {
	st.tpl, st.at = t, at
	return &st
}

// remember writes a record of a matter into the truth.
func (g *generator) remember(st *story, source fengqiao.Source, sourceID string) {
	if st.matter != "" {
		g.world.Truth[fengqiao.EventID(source, sourceID)] = st.matter
	}
}
