package resolvers

import (
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
		return 1 + n*child
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
	return NewExecutableSchema(cfg)
}
