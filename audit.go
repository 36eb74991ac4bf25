package fengqiao

import (
	"context"
	"strings"
	"time"
)

// AuditEntry records one look at personal data: who looked, at what, when, from where.
type AuditEntry struct {
	// Seq orders entries: later entries have larger numbers. Set by the log.
	Seq           uint64
	At            time.Time
	PrincipalID   string
	PrincipalName string
	Role          Role
	OrgCode       string
	Action        string // 查看人员、查看单位、查看串联、查看个人信息、按标识检索、查看隔离记录
	Subject       string // the id looked at, or the identifier searched for
	Remote        string // the caller's network address
}

// AuditFilter narrows the audit log. Nil fields are not applied.
type AuditFilter struct {
	PrincipalID *string
	Subject     *string
	Action      *string
	// OrgCode keeps entries of principals at this unit or below it.
	OrgCode *string
	// From and To bound At: From inclusive, To exclusive.
	From *time.Time
	To   *time.Time
}

// Matches reports whether e passes f.
func (f AuditFilter) Matches(e AuditEntry) bool {
	return (f.PrincipalID == nil || e.PrincipalID == *f.PrincipalID) &&
		(f.Subject == nil || e.Subject == *f.Subject) &&
		(f.Action == nil || e.Action == *f.Action) &&
		(f.OrgCode == nil || strings.HasPrefix(e.OrgCode, *f.OrgCode)) &&
		(f.From == nil || !e.At.Before(*f.From)) &&
		(f.To == nil || e.At.Before(*f.To))
}

// AuditLog is append-only: entries are recorded and read, never changed. The audit
// package implements it.
type AuditLog interface {
	Record(ctx context.Context, entries ...AuditEntry) error
	// Entries returns up to limit entries matching f, newest first, older than the
	// entry numbered before (all when before is 0), and whether more follow.
	Entries(ctx context.Context, f AuditFilter, before uint64, limit int) (page []AuditEntry, more bool, err error)
}
