package resolvers

import (
	"context"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"

	"fengqiao"
)

// Bounds on what a caller may type. Longer input is refused before anything is
// searched: the cost of a text search grows with its length.
const (
	MaxTextRunes       = 200              // filter.text
	MaxIdentifierRunes = 64               // filter.identifier
	MaxAddressRunes    = MaxTextRunes - 2 // place(address), searched as one quoted phrase
)

// checkLength refuses a value longer than limit characters.
func checkLength(what string, v *string, limit int) error {
	if v == nil {
		return nil
	}
	if n := utf8.RuneCountInString(*v); n > limit {
		return fengqiao.Errorf(fengqiao.EINVALID, "%s最长%d个字符，收到%d个", what, limit, n)
	}
	return nil
}

// checkFilter bounds a caller's filter and applies the identifier rules: searching
// by an ID number or a phone needs a role that may see them unmasked (otherwise
// guessing the hidden digits would recover them), and every identifier search,
// refused or not, is audited. The identifier is normalized in f first (width,
// spaces), so what is judged is what the index is asked.
func (r *Resolver) checkFilter(ctx context.Context, f *fengqiao.EventFilter) error {
	if err := checkLength("检索文字", f.Text, MaxTextRunes); err != nil {
		return err
	}
	if err := checkLength("检索标识", f.Identifier, MaxIdentifierRunes); err != nil {
		return err
	}
	if f.Identifier == nil {
		return nil
	}
	id := fengqiao.NormalizeIdentifier(*f.Identifier)
	if f.Identifier = &id; id == "" {
		return nil
	}
	if fengqiao.IsPersonalIdentifier(id) && !fengqiao.PrincipalFrom(ctx).MaySeePersonalData() {
		if err := r.audit(ctx, "按标识检索（拒绝）", id); err != nil {
			return err
		}
		return fengqiao.Errorf(fengqiao.EFORBIDDEN, "按身份证号或电话号码检索仅限可查看个人信息的角色（指挥长）")
	}
	return r.audit(ctx, "按标识检索", id)
}

// personalData returns v as the caller may see it: whole, masked, or null if empty.
// Showing it whole is a look at the person's personal data, and audited.
func (r *Resolver) personalData(ctx context.Context, personID, v string, mask func(string) string) (*string, error) {
	if v == "" {
		return nil, nil
	}
	if !fengqiao.PrincipalFrom(ctx).MaySeePersonalData() {
		v = mask(v)
		return &v, nil
	}
	return &v, r.audit(ctx, "查看个人信息", personID)
}

// isCounty reports whether p sits at the root of the tree.
func (r *Resolver) isCounty(p *fengqiao.Principal) bool { return p.OrgCode == r.Tree.Root().Code }

// audit records a look by the caller, once per action and subject in an operation.
func (r *Resolver) audit(ctx context.Context, action, subject string) error {
	p := fengqiao.PrincipalFrom(ctx)
	if r.Audit == nil || p == nil || !auditedOnce(ctx, action, subject) {
		return nil
	}
	return r.Audit.Record(ctx, fengqiao.AuditEntry{At: time.Now(), PrincipalID: p.ID, PrincipalName: p.Name, Role: p.Role,
		OrgCode: p.OrgCode, Action: action, Subject: subject, Remote: p.Remote})
}

type lookedAtKey struct{}

// auditedOnce reports whether this is the operation's first look of action at
// subject; outside an operation (no OnceAudit extension) every look counts.
func auditedOnce(ctx context.Context, action, subject string) bool {
	seen, ok := ctx.Value(lookedAtKey{}).(*sync.Map)
	if !ok {
		return true
	}
	_, looked := seen.LoadOrStore(action+"\x00"+subject, true)
	return !looked
}

// OnceAudit is the handler extension that makes an operation's looks at the same
// thing one audit entry: a page that shows one person's phone on ten events is one
// look at that person.
type OnceAudit struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = OnceAudit{}

func (OnceAudit) ExtensionName() string                   { return "OnceAudit" }
func (OnceAudit) Validate(graphql.ExecutableSchema) error { return nil }

func (OnceAudit) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, lookedAtKey{}, &sync.Map{}))
}

// visibleProject reports whether the caller may see a project: one placed in its
// subtree (a project with no unit is the county's).
func (r *Resolver) visibleProject(ctx context.Context, p *fengqiao.Project) bool {
	code := p.OrgCode
	if code == "" {
		code = r.Tree.Root().Code
	}
	return visible(ctx, code)
}
