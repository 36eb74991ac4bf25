package fengqiao

// The types the hub serves as Apollo Federation entities (docs/federation.md):
// a city's gateway fetches them from the hub by key through _entities. IsEntity
// marks each for gqlgen's federation runtime; it does nothing.

// IsEntity marks Event as a federation entity, keyed by id.
func (Event) IsEntity() {}

// IsEntity marks Person as a federation entity, keyed by id.
func (Person) IsEntity() {}

// IsEntity marks Organization as a federation entity, keyed by id.
func (Organization) IsEntity() {}

// IsEntity marks Project as a federation entity, keyed by code.
func (Project) IsEntity() {}

// IsEntity marks OrgUnit as a federation entity, keyed by code.
func (OrgUnit) IsEntity() {}
