package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"fengqiao/resolvers"
)

// FragmentBomb is the query of issue 11: n fragments, each spreading the next
// twice, so that expanding them asks for 2^n fields in 1.6 KB.
func FragmentBomb(n int) string {
	var b strings.Builder
	b.WriteString("{ ...F0 }")
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Query { me { name } }", n)
	return b.String()
}

// NestedFragmentBomb doubles at every level of a tree: each fragment asks for
// the next under two different fields, so no field repeats and no fragment
// repeats at one level, and the query asks for 2^(n+1) units.
func NestedFragmentBomb(n int) string {
	var b strings.Builder
	b.WriteString("{ orgUnit { ...F0 } }")
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on OrgUnit { children { ...F%d } parent { ...F%d } }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on OrgUnit { code }", n)
	return b.String()
}

// Aliases asks for field n times, each under its own alias.
func Aliases(n int, field string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, field)
	}
	b.WriteString(" }")
	return b.String()
}

// Deep nests children n levels below orgUnit.
func Deep(n int) string {
	return "{ orgUnit { " + strings.Repeat("children { ", n) + "code" + strings.Repeat(" }", n) + " } }"
}

// IntrospectionQuery is the query GraphiQL sends to learn the schema
// (graphql-js getIntrospectionQuery), which must always be allowed.
const IntrospectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

// fuzzSeeds are the hostile shapes, and a few ordinary queries.
func fuzzSeeds() []string {
	return []string{
		FragmentBomb(40), FragmentBomb(3), NestedFragmentBomb(12), NestedFragmentBomb(2),
		Aliases(40, "me { name }"), Deep(12), IntrospectionQuery,
		`{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }`,
		`{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`,
		`{ ...A } fragment A on Query { me { ...A } }`,
		`{ me @include(if: true) @include(if: true) @skip(if: false) { name } }`,
		`query($a: Int, $b: Int) { events(first: $a) { totalCount } }`,
		`{ events(filter: {categories: ["a", "b", ["c", ["d"]]]}, first: 1000) { edges { node { id } } } }`,
		`{ me { name } me { name } me { name } }`,
		`{ events(first: 100) { edges { node { parties { person { events(first: 100) { edges { node { id } } } } } } } } }`,
		`{ orgUnit { ... on OrgUnit { ... { code } } } }`,
		`query A { me { name } } query B { ...F } fragment F on Query { me { role } } fragment F on Query { orgUnit { code } }`,
		`{ ...Missing }`, `{`, ``, `subscription { alerts { id } }`,
	}
}

// selections counts the selection nodes of a document, fragments not expanded.
func selections(doc *ast.QueryDocument) int {
	var count func(ast.SelectionSet) int
	count = func(set ast.SelectionSet) int {
		n := len(set)
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				n += count(s.SelectionSet)
			case *ast.InlineFragment:
				n += count(s.SelectionSet)
			}
		}
		return n
	}
	n := 0
	for _, op := range doc.Operations {
		n += count(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		n += count(f.SelectionSet)
	}
	return n
}

// FuzzQueryLimits checks that the walkers that bound a query never panic on any
// document and look at each selection of it a bounded number of times: once for
// the limits (depth, page, cost), and at most MaxSelections more for the document
// bounds, which expand fragments only once they know the expansion is small.
func FuzzQueryLimits(f *testing.F) {
	for _, q := range fuzzSeeds() {
		f.Add(q)
	}
	cfg := Config{}.withDefaults()
	es := resolvers.NewSchema(&resolvers.Resolver{})
	f.Fuzz(func(t *testing.T, query string) {
		_, refused := checkDocument(cfg, query)
		doc, err := parser.ParseQuery(&ast.Source{Input: query})
		if err != nil {
			return
		}
		nodes := selections(doc)
		bw := newBoundsWalker(cfg, doc)
		bw.check()
		if bw.visits > nodes+cfg.MaxSelections {
			t.Fatalf("document bounds looked at %d selections of a document of %d", bw.visits, nodes)
		}
		measure := func(es_ bool) {
			var lw *limitWalker
			if es_ {
				lw = newLimitWalker(context.Background(), es, doc, nil)
			} else {
				lw = newLimitWalker(context.Background(), nil, doc, nil)
			}
			for _, op := range doc.Operations {
				lw.selectionSet(op.SelectionSet)
			}
			if lw.visits > nodes {
				t.Fatalf("limits looked at %d selections of a document of %d", lw.visits, nodes)
			}
		}
		measure(false) // unvalidated: no definitions
		if refused == nil && len(validator.ValidateWithRules(es.Schema(), doc, rules.NewDefaultRules())) == 0 {
			measure(true)
		}
	})
}

// TestLimitsMeasureEachFragmentOnce pins what issue 11 found: the depth and cost
// walks followed every spread, so 40 fragments spreading the next twice took 2^40
// steps. Each fragment is now measured once; the cost is still the expanded one.
func TestLimitsMeasureEachFragmentOnce(t *testing.T) {
	t.Parallel()
	es := resolvers.NewSchema(&resolvers.Resolver{})
	for _, n := range []int{3, 40} {
		doc, err := parser.ParseQuery(&ast.Source{Input: FragmentBomb(n)})
		if err != nil {
			t.Fatal(err)
		}
		if errs := validator.ValidateWithRules(es.Schema(), doc, rules.NewDefaultRules()); len(errs) > 0 {
			t.Fatal(errs)
		}
		w := newLimitWalker(context.Background(), es, doc, nil)
		m := w.selectionSet(doc.Operations[0].SelectionSet)
		if w.visits > selections(doc) {
			t.Errorf("%d fragments: %d selections looked at, the document has %d", n, w.visits, selections(doc))
		}
		// me { name } costs 2; each level doubles it.
		if want := min(2<<n, maxInt); m.cost != want || m.depth != 2 {
			t.Errorf("%d fragments: cost %d depth %d, want cost %d depth 2", n, m.cost, m.depth, want)
		}
	}
}

// TestDocumentBoundsMeasureEachFragmentOnce: the bounds refuse the bomb after
// looking at each of its selections once.
func TestDocumentBoundsMeasureEachFragmentOnce(t *testing.T) {
	t.Parallel()
	cfg := Config{}.withDefaults()
	doc, err := parser.ParseQuery(&ast.Source{Input: FragmentBomb(40)})
	if err != nil {
		t.Fatal(err)
	}
	w := newBoundsWalker(cfg, doc)
	if err := w.check(); err == nil || !strings.Contains(err.Message, "无法计数") {
		t.Errorf("bomb: %v", err)
	}
	if w.visits > selections(doc) {
		t.Errorf("%d selections looked at, the document has %d", w.visits, selections(doc))
	}
}

// TestIntrospectionIsWithinTheBounds: GraphiQL's own query passes every bound.
func TestIntrospectionIsWithinTheBounds(t *testing.T) {
	t.Parallel()
	cfg := Config{}.withDefaults()
	doc, err := checkDocument(cfg, IntrospectionQuery)
	if err != nil {
		t.Fatal(err)
	}
	w := newBoundsWalker(cfg, doc)
	w.check()
	n := w.expanded(doc.Operations[0].SelectionSet)
	t.Logf("introspection: %d selections expanded (limit %d)", n, cfg.MaxSelections)
}
