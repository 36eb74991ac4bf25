package fengqiao

import "context"

// Role is what a principal may do. Roles are attached to org units (1+3+N 网格团队,
// 5+X 岗位); scoping by org subtree applies to every role.
type Role string

const (
	RoleCommander Role = "COMMANDER"  // 指挥长: sees everything in the subtree, unmasked personal data
	RoleAnalyst   Role = "ANALYST"    // 研判分析员
	RoleGridStaff Role = "GRID_STAFF" // 网格员
	RoleAuditor   Role = "AUDITOR"    // 审计员: reads the audit log
)

// Principal is the authenticated caller of a request.
type Principal struct {
	ID      string
	Name    string
	Role    Role
	OrgCode string // the root of the subtree the principal may see
	Remote  string // the network address the request came from (for the audit log)
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal of ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
