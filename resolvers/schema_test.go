package resolvers_test

import (
	"context"
	"math"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/vektah/gqlparser/v2"

	"fengqiao/resolvers"
)

// A connection's cost is its page size times its children's. Asked for pages of
// absurd sizes, the cost must saturate at the largest int, never wrap around to a
// small (or negative) number a complexity limit would let through.
func TestConnectionCostsSaturateOnHugePageSizes(t *testing.T) {
	t.Parallel()
	es := resolvers.NewSchema(&resolvers.Resolver{})
	for name, tc := range map[string]struct {
		query string
		vars  map[string]any
	}{
		"first the largest int": {`query($n: Int) { events(first: $n) { edges { node { id title } } } }`, map[string]any{"n": int64(math.MaxInt64)}},
		"first 2^62+1":          {`query($n: Int) { events(first: $n) { edges { node { id title } } } }`, map[string]any{"n": int64(1<<62 + 1)}},
		"nested, first the largest Int32": {`{ events(first: 2147483647) { edges { node { parties { person {
			events(first: 2147483647) { edges { node { id title } } } } } } } } }`, nil},
		"audit log, first the largest int": {`query($n: Int) { auditLog(first: $n) { edges { cursor node { action } } } }`, map[string]any{"n": int64(math.MaxInt64)}},
	} {
		doc, errs := gqlparser.LoadQuery(es.Schema(), tc.query)
		if errs != nil {
			t.Fatalf("%s: %v", name, errs)
		}
		if c := complexity.Calculate(context.Background(), es, doc.Operations[0], tc.vars); c != math.MaxInt {
			t.Errorf("%s: cost %d, want %d", name, c, math.MaxInt)
		}
	}
	// An ordinary page costs what it did.
	doc, _ := gqlparser.LoadQuery(es.Schema(), `{ events(first: 10) { edges { node { id title } } } }`)
	if c := complexity.Calculate(context.Background(), es, doc.Operations[0], nil); c != 1+10*(1+(1+2)) {
		t.Errorf("a page of 10 costs %d", c)
	}
}
