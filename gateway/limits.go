package gateway

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"fengqiao"
)

// queryLimits refuses, before anything runs, an operation that nests deeper than
// maxDepth, costs more than maxComplexity, or asks for a page larger than
// fengqiao.MaxPageSize. Introspection is exempt from the depth limit: its depth is
// bounded by the schema (and by documentBounds), and GraphiQL needs it.
//
// The cost is gqlgen's (complexity.Calculate): one per field, a connection its page
// size times its children, __schema free; but measured here in one walk that
// measures each fragment once, where complexity.Calculate walks a fragment again at
// every spread and so takes exponential time on fragments that spread each other.
type queryLimits struct {
	maxDepth, maxComplexity int
	schema                  graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*queryLimits)(nil)

func (l *queryLimits) ExtensionName() string { return "QueryLimits" }

func (l *queryLimits) Validate(schema graphql.ExecutableSchema) error {
	l.schema = schema
	return nil
}

func (l *queryLimits) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Doc.Operations.ForName(oc.OperationName)
	if op == nil {
		return nil
	}
	w := newLimitWalker(ctx, l.schema, oc.Doc, oc.Variables)
	m := w.selectionSet(op.SelectionSet)
	if m.depth > l.maxDepth {
		return limitError("查询嵌套层数为%d，超过上限%d，请拆分查询", m.depth, l.maxDepth)
	}
	if w.bigPage != 0 {
		return limitError("每页最多%d条，查询要求%d条", fengqiao.MaxPageSize, w.bigPage)
	}
	if m.cost > l.maxComplexity {
		return limitError("查询复杂度为%d，超过上限%d，请减少每页条数或嵌套字段", m.cost, l.maxComplexity)
	}
	return nil
}

func limitError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": fengqiao.ELIMIT}
	return err
}

// measure is what a selection set adds below the level it sits at.
type measure struct {
	depth int // levels of fields, introspection not counted
	cost  int
}

// limitWalker measures an operation's selection sets: each fragment once, however
// often it is spread, so the walk is linear in the document.
type limitWalker struct {
	ctx    context.Context
	es     graphql.ExecutableSchema // nil measures every field at 1 + its children
	schema *ast.Schema
	vars   map[string]any

	frags    map[string]*ast.FragmentDefinition
	measured map[string]measure
	visiting map[string]bool

	bigPage int // the first oversized "first" argument seen, 0 if none
	visits  int // selections looked at, for the test that the walk is linear
}

func newLimitWalker(ctx context.Context, es graphql.ExecutableSchema, doc *ast.QueryDocument, vars map[string]any) *limitWalker {
	w := &limitWalker{ctx: ctx, es: es, vars: vars, frags: make(map[string]*ast.FragmentDefinition, len(doc.Fragments)),
		measured: map[string]measure{}, visiting: map[string]bool{}}
	if es != nil {
		w.schema = es.Schema()
	}
	for _, f := range doc.Fragments {
		if _, dup := w.frags[f.Name]; !dup {
			w.frags[f.Name] = f
		}
	}
	return w
}

func (w *limitWalker) selectionSet(set ast.SelectionSet) measure {
	var m measure
	for _, sel := range set {
		w.visits++
		var s measure
		switch sel := sel.(type) {
		case *ast.Field:
			s = w.field(sel)
		case *ast.InlineFragment:
			s = w.selectionSet(sel.SelectionSet)
		case *ast.FragmentSpread:
			s = w.fragment(sel.Name)
		}
		m.depth = max(m.depth, s.depth)
		m.cost = safeAdd(m.cost, s.cost)
	}
	return m
}

// fragment measures a fragment once. Validation has refused fragment cycles; the
// guard keeps a malformed document from looping anyway.
func (w *limitWalker) fragment(name string) measure {
	if m, ok := w.measured[name]; ok {
		return m
	}
	f := w.frags[name]
	if f == nil || w.visiting[name] {
		return measure{}
	}
	w.visiting[name] = true
	m := w.selectionSet(f.SelectionSet)
	delete(w.visiting, name)
	w.measured[name] = m
	return m
}

func (w *limitWalker) field(f *ast.Field) measure {
	introspection := strings.HasPrefix(f.Name, "__")
	if !introspection && w.bigPage == 0 {
		if a := f.Arguments.ForName("first"); a != nil {
			v, _ := a.Value.Value(w.vars)
			if first, ok := asInt(v); ok && first > fengqiao.MaxPageSize {
				w.bigPage = first
			}
		}
	}
	var typ *ast.Definition
	if f.Definition != nil && w.schema != nil {
		typ = w.schema.Types[f.Definition.Type.Name()]
	}
	if typ != nil && typ.Name == "__Schema" {
		return measure{} // gqlgen does not charge for the schema's introspection
	}
	below := w.selectionSet(f.SelectionSet)
	m := measure{depth: 1 + below.depth}
	if introspection {
		m.depth = 0
	}
	child := below.cost
	if typ != nil && typ.Kind != ast.Object && typ.Kind != ast.Interface && typ.Kind != ast.Union {
		child = 0
	}
	m.cost = w.fieldCost(f, child)
	return m
}

// fieldCost is the field's cost given its children's, as complexity.Calculate
// has it: the schema's complexity function if it has one for the field, else one
// plus the children; on an interface, the dearest of its implementations.
func (w *limitWalker) fieldCost(f *ast.Field, child int) int {
	if w.es == nil || f.Definition == nil || f.ObjectDefinition == nil {
		return safeAdd(1, child)
	}
	// Clamped so that a complexity function multiplying it by a page size cannot
	// overflow: any cost this high is refused anyway.
	child = min(child, childCostCap)
	args := f.ArgumentMap(w.vars)
	cost := func(typeName string) int {
		if c, ok := w.es.Complexity(w.ctx, typeName, f.Name, child, args); ok && c >= 1 {
			return c
		}
		return safeAdd(1, child)
	}
	if f.ObjectDefinition.Kind != ast.Interface {
		return cost(f.ObjectDefinition.Name)
	}
	dearest := 0
	for _, t := range w.schema.GetPossibleTypes(f.ObjectDefinition) {
		dearest = max(dearest, cost(t.Name))
	}
	return dearest
}

const (
	maxInt       = int(^uint(0) >> 1)
	childCostCap = 1 << 31
)

// safeAdd adds without overflowing, ignoring negative operands, as gqlgen's
// complexity does: an attacker cannot wrap the cost around to a small number.
func safeAdd(a, b int) int {
	a, b = max(a, 0), max(b, 0)
	if a > maxInt-b {
		return maxInt
	}
	return a + b
}

// asInt reads an Int argument, whether written inline or passed as a variable.
func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		return int(n), true
	case int:
		return n, true
	case float64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}
