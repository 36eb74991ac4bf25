package world_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"fengqiao/tools/world"
)

func TestTheSameConfigMakesTheSameWorld(t *testing.T) {
	t.Parallel()
	cfg := world.Config{Seed: 3, Scale: 0.002, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST), MalformedRate: 0.05}
	a, _ := json.Marshal(world.Generate(cfg).Hotline)
	b, _ := json.Marshal(world.Generate(cfg).Hotline)
	if string(a) != string(b) {
		t.Fatal("two worlds of one config differ")
	}
	cfg.Seed = 4
	if c, _ := json.Marshal(world.Generate(cfg).Hotline); string(c) == string(a) {
		t.Fatal("another seed made the same world")
	}
}

func TestWorldShape(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST)
	w := world.Generate(world.Config{Seed: 1, Scale: 0.01, End: end})
	// Background volumes, plus what the matters add.
	for name, n := range map[string][2]int{
		"hotline": {len(w.Hotline), world.HotlinePerYear}, "mediation": {len(w.Mediation), world.MediationPerYear},
		"police": {len(w.Police), world.PolicePerYear}, "court": {len(w.Court), world.CourtPerYear},
		"city": {len(w.City), world.CityPerYear},
	} {
		if n[0] < n[1]/100 || n[0] > n[1]/100*2 {
			t.Errorf("%d %s records at scale 0.01 (%d a year)", n[0], name, n[1])
		}
	}
	ids := map[string]bool{}
	levels := map[string]int{}
	for _, o := range w.Hotline {
		called, err := time.ParseInLocation(world.HotlineTimeLayout, o.LDSJ, world.CST)
		if err != nil || called.Before(end.AddDate(-1, 0, 0)) || !called.Before(end) || o.Updated.Before(called) {
			t.Fatalf("order %s called %s updated %s: outside the year", o.GDBH, o.LDSJ, o.GXSJ)
		}
		if ids[o.GDBH] || w.Tree.Unit(o.QHDM) == nil || o.Malformed != "" {
			t.Fatalf("order %+v: duplicate, misplaced or broken", o)
		}
		ids[o.GDBH] = true
	}
	for _, c := range w.Mediation {
		if ids[c.CaseNo] || w.Tree.Unit(c.GridCode) == nil || len(c.Parties) < 2 {
			t.Fatalf("case %+v: duplicate, misplaced or without two sides", c)
		}
		ids[c.CaseNo] = true
		levels[c.HandleLevel]++
	}
	// Most disputes are settled in the village, few reach the county.
	if levels["村级"] <= levels["镇级"] || levels["镇级"] <= levels["县级"] {
		t.Fatalf("handling levels %v", levels)
	}
}

func TestTheWorldKnowsWhichRecordsAreOneMatter(t *testing.T) {
	t.Parallel()
	w := world.Generate(world.Config{Seed: 1, Scale: 0.02, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST)})
	records := map[string]bool{}
	add := func(source, id string) { records[source+":"+id] = true }
	for _, o := range w.Hotline {
		add("HOTLINE_12345", o.GDBH)
	}
	for _, c := range w.Mediation {
		add("MEDIATION", c.CaseNo)
	}
	for _, p := range w.Police {
		add("POLICE_110", p.JQBH)
	}
	for _, c := range w.Court {
		add("COURT", c.AH)
	}
	for _, c := range w.City {
		add("CITY_MGMT", c.CaseID)
	}
	for _, s := range w.Surveys {
		add("SURVEY", s.HFID)
	}
	sources := map[string]map[string]bool{} // matter → sources it crossed
	for id, matter := range w.Truth {
		if !records[id] {
			t.Fatalf("the truth names %s, which no upstream holds", id)
		}
		if sources[matter] == nil {
			sources[matter] = map[string]bool{}
		}
		sources[matter][strings.SplitN(id, ":", 2)[0]] = true
	}
	kinds := map[string]int{}
	crossing := 0
	for matter, srcs := range sources {
		kinds[strings.SplitN(matter, "-", 2)[0]]++
		if len(srcs) >= 2 {
			crossing++
		}
	}
	for _, kind := range []string{"wage", "neighbour", "gym", "estate"} {
		if kinds[kind] == 0 {
			t.Errorf("no %s matter in the world", kind)
		}
	}
	if crossing*10 < len(sources)*8 {
		t.Errorf("only %d of %d matters cross two or more upstreams", crossing, len(sources))
	}
}
