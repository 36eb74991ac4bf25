package resolvers

import (
	"math"

	"github.com/99designs/gqlgen/graphql"

	"fengqiao"
)

// NewSchema returns the GraphQL schema answered by r, with complexities
// that charge a connection for every node it may return.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	cfg := Config{Resolvers: r}
	page := func(child int, first *int) int {
		n := 20
		if first != nil {
			n = max(*first, 1)
		}
		return 1 + saturatingMul(n, child)
	}
	cfg.Complexity.Query.Events = func(child int, _ *fengqiao.EventFilter, first *int, _ *string, _ *EventOrder) int {
		return page(child, first)
	}
	cfg.Complexity.Place.Events = func(child int, first *int, _ *string) int { return page(child, first) }
	cfg.Complexity.Query.Chains = func(child int, _ *int, first *int) int { return page(child, first) }
	cfg.Complexity.Query.AuditLog = func(child int, _ *fengqiao.AuditFilter, first *int, _ *string) int { return page(child, first) }
	cfg.Complexity.Person.Events = func(child int, first *int, _ *string) int { return page(child, first) }
	cfg.Complexity.Organization.Events = func(child int, first *int, _ *string) int { return page(child, first) }
	cfg.Complexity.Project.Events = func(child int, first *int, _ *string) int { return page(child, first) }
	cfg.Complexity.ConnectorState.Quarantine = func(child int, first *int) int { return page(child, first) }
	// A federation gateway's _entities lookup returns one entity per representation.
	cfg.Complexity.Query.__resolve_entities = func(child int, reps []map[string]any) int {
		n := len(reps)
		return page(child, &n)
	}
	return NewExecutableSchema(cfg)
}

// saturatingMul is a × b for a ≥ 1, or the largest int (less one, so that one
// more can be added) where that would overflow: a page size an attacker chose
// cannot wrap a query's cost around to a small number. A negative b counts as 0.
func saturatingMul(a, b int) int {
	const most = math.MaxInt - 1
	if b <= 0 {
		return 0
	}
	if a > most/b {
		return most
	}
	return a * b
}
