package gateway

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"fengqiao"
)

// queryLimits refuses, before anything runs, an operation that nests deeper than
// maxDepth, costs more than maxComplexity, or asks for a page larger than
// fengqiao.MaxPageSize. Introspection is exempt from the depth limit: its depth is
// bounded by the schema, and GraphiQL needs it.
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
	w := &limitWalker{doc: oc.Doc, vars: oc.Variables}
	if depth := w.depth(op.SelectionSet, 0); depth > l.maxDepth {
		return limitError("查询嵌套层数为%d，超过上限%d，请拆分查询", depth, l.maxDepth)
	}
	if w.bigPage != 0 {
		return limitError("每页最多%d条，查询要求%d条", fengqiao.MaxPageSize, w.bigPage)
	}
	if c := complexity.Calculate(ctx, l.schema, op, oc.Variables); c > l.maxComplexity {
		return limitError("查询复杂度为%d，超过上限%d，请减少每页条数或嵌套字段", c, l.maxComplexity)
	}
	return nil
}

func limitError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": fengqiao.ELIMIT}
	return err
}

// limitWalker measures an operation's selection sets.
type limitWalker struct {
	doc     *ast.QueryDocument
	vars    map[string]any
	bigPage int // the first oversized "first" argument seen, 0 if none
	seen    []string
}

// depth returns how deeply set nests fields below level.
func (w *limitWalker) depth(set ast.SelectionSet, level int) int {
	deepest := level
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			if first, ok := asInt(s.ArgumentMap(w.vars)["first"]); ok && first > fengqiao.MaxPageSize && w.bigPage == 0 {
				w.bigPage = first
			}
			deepest = max(deepest, w.depth(s.SelectionSet, level+1))
		case *ast.InlineFragment:
			deepest = max(deepest, w.depth(s.SelectionSet, level))
		case *ast.FragmentSpread:
			// Validation has rejected fragment cycles already; the guard keeps a
			// malformed document from looping anyway.
			if f := w.doc.Fragments.ForName(s.Name); f != nil && !slices.Contains(w.seen, s.Name) {
				w.seen = append(w.seen, s.Name)
				deepest = max(deepest, w.depth(f.SelectionSet, level))
				w.seen = w.seen[:len(w.seen)-1]
			}
		}
	}
	return deepest
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
