package fengqiao

import "context"

// Role is what a principal may do. Roles are attached to org units (1+3+N 网格团队,
// 5+X 岗位); scoping by org subtree applies to every role. docs/schema.md has the
// table of what each role may see.
type Role string

const (
	RoleCommander Role = "COMMANDER"  // 指挥长: sees everything in the subtree, unmasked personal data
	RoleAnalyst   Role = "ANALYST"    // 研判分析员: sees the subtree, personal data masked
	RoleGridStaff Role = "GRID_STAFF" // 网格员: sees the subtree, personal data masked
	RoleAuditor   Role = "AUDITOR"    // 审计员: reads the audit log; personal data masked
	RoleOperator  Role = "OPERATOR"   // 运维员: connectors, quarantined records, metrics; county only
)

// Roles lists every known role.
var Roles = []Role{RoleCommander, RoleAnalyst, RoleGridStaff, RoleAuditor, RoleOperator}

// Valid reports whether r is a known role. Tokens naming any other role are refused.
func (r Role) Valid() bool {
	for _, known := range Roles {
		if r == known {
			return true
		}
	}
	return false
}

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
