package world_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"fengqiao/tools/world"
)

func TestTheSameConfigMakesTheSameWorld(t *testing.T) {
	t.Parallel()
	cfg := world.Config{Seed: 3, Scale: 0.002, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST), MalformedRate: 0.05}
	a, b := summary(world.Generate(cfg)), summary(world.Generate(cfg))
	if a != b {
		t.Fatal("two worlds of one config differ")
	}
	// Being told the progress does not change the world.
	cfg.Progress = func(done, total int) {}
	if c := summary(world.Generate(cfg)); c != a {
		t.Fatal("the world differs when its progress is reported")
	}
	cfg.Seed = 4
	if c := summary(world.Generate(cfg)); c == a {
		t.Fatal("another seed made the same world")
	}
}

// summary is a world's people, companies, records and truth as text.
func summary(w *world.World) string {
	var b strings.Builder
	for _, p := range w.People {
		fmt.Fprintln(&b, p.Name, p.IDNumber, p.Phone, p.Village.Code)
	}
	for _, c := range w.Companies {
		fmt.Fprintln(&b, c.Name, c.CreditCode, c.Town.Code)
	}
	for _, records := range []any{w.Projects, w.Devices, w.Hotline, w.Mediation, w.Police, w.Court, w.City, w.Surveys, w.Truth} {
		j, _ := json.Marshal(records)
		b.Write(j)
	}
	return b.String()
}

// TestAWorldOfYearsIsMade generates at a scale where names and ID numbers used to
// run out (the generator retried forever from 0.09 up): every firm has its own
// name, every person their own ID number, and the volumes follow the scale.
func TestAWorldOfYearsIsMade(t *testing.T) {
	t.Parallel()
	const scale = 0.2
	w := world.Generate(world.Config{Seed: 5, Scale: scale, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST)})
	if len(w.People) != 200000*scale || len(w.Companies) != 60000*scale {
		t.Fatalf("%d people and %d companies at scale %g", len(w.People), len(w.Companies), scale)
	}
	names := map[string]bool{}
	for _, c := range w.Companies {
		if names[c.Name] || !strings.HasPrefix(c.Name, "温岭市") || !strings.HasSuffix(c.Name, c.Industry+"有限公司") {
			t.Fatalf("company name %s: taken twice or not a company's", c.Name)
		}
		names[c.Name] = true
	}
	ids := map[string]bool{}
	for _, p := range w.People {
		if ids[p.IDNumber] || len(p.IDNumber) != 18 || !strings.HasPrefix(p.IDNumber, "331081") || p.IDNumber[14] != '9' {
			t.Fatalf("ID number %s: taken twice or not shaped like Wenling's", p.IDNumber)
		}
		ids[p.IDNumber] = true
	}
	// Each source holds its year's background records at this scale, and the
	// storylines add a few percent on top.
	for name, n := range map[string][2]int{
		"hotline": {len(w.Hotline), world.HotlinePerYear}, "mediation": {len(w.Mediation), world.MediationPerYear},
		"police": {len(w.Police), world.PolicePerYear}, "court": {len(w.Court), world.CourtPerYear},
		"city": {len(w.City), world.CityPerYear},
	} {
		if want := int(float64(n[1]) * scale); n[0] < want || n[0] > want*110/100 {
			t.Errorf("%d %s records at scale %g, want %d and a few percent", n[0], name, scale, want)
		}
	}
	matters := map[string]bool{}
	for _, m := range w.Truth {
		if !strings.HasPrefix(m, "solo-") {
			matters[m] = true
		}
	}
	perYear := world.WageMattersPerYear + world.NeighbourMattersPerYear + world.GymMattersPerYear + world.EstateMattersPerYear
	if len(matters) != int(float64(perYear)*scale) {
		t.Errorf("%d storylines in the truth, want %d", len(matters), int(float64(perYear)*scale))
	}
}

func TestGenerationReportsProgress(t *testing.T) {
	t.Parallel()
	var calls [][2]int
	world.Generate(world.Config{Seed: 1, Scale: 0.02, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST),
		Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) }})
	if len(calls) < 3 {
		t.Fatalf("progress reported %d times", len(calls))
	}
	for i, c := range calls {
		if c[0] > c[1] || i > 0 && c[0] <= calls[i-1][0] {
			t.Fatalf("progress %v after %v", c, calls[max(0, i-1)])
		}
	}
	if last := calls[len(calls)-1]; last[0] != last[1] {
		t.Fatalf("progress ended at %v", last)
	}
}

// TestCancellingStopsGeneration cancels a five-year world at its first report of
// progress: the generator does no further step and returns the context's error.
func TestCancellingStopsGeneration(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := 0
	w, err := world.GenerateContext(ctx, world.Config{Seed: 1, Scale: 5, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST),
		Progress: func(done, total int) { reports++; cancel() }})
	if !errors.Is(err, context.Canceled) || w != nil {
		t.Fatalf("cancelled generation returned %v, %v", w != nil, err)
	}
	if reports != 1 {
		t.Fatalf("%d reports of progress after cancelling at the first", reports)
	}
}

func TestScaleBeyondTheLargestIsRefused(t *testing.T) {
	t.Parallel()
	if _, err := world.GenerateContext(context.Background(), world.Config{Scale: world.MaxScale + 1}); err == nil {
		t.Fatal("a world beyond the largest scale was accepted")
	}
}

var benchScales = flag.String("scales", "0.1,1", "the scales BenchmarkGenerate makes worlds of")

// BenchmarkGenerate makes worlds of a tenth of a year and of one year
// (go test -run X -bench Generate ./tools/world/), or of the scales given
// (… -bench Generate -benchtime 1x -scales 3,5 ./tools/world/).
func BenchmarkGenerate(b *testing.B) {
	for s := range strings.SplitSeq(*benchScales, ",") {
		scale, err := strconv.ParseFloat(s, 64)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprint("scale=", scale), func(b *testing.B) {
			records := 0
			for b.Loop() {
				w := world.Generate(world.Config{Seed: 1, Scale: scale, End: time.Date(2026, 11, 1, 0, 0, 0, 0, world.CST)})
				records = len(w.Hotline) + len(w.Mediation) + len(w.Police) + len(w.Court) + len(w.City) + len(w.Surveys)
			}
			b.ReportMetric(float64(records), "records")
			b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
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
