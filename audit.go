package fengqiao

import (
	"context"
	"time"
)

// AuditEntry records one look at personal data: who looked, at what, when, from where.
type AuditEntry struct {
	At            time.Time
	PrincipalID   string
	PrincipalName string
	Role          Role
	OrgCode       string
	Action        string // 查看人员、查看单位、查看串联
	Subject       string // the id looked at
	Remote        string // the caller's network address
}

// AuditFilter narrows the audit log. Nil fields are not applied.
type AuditFilter struct {
	PrincipalID *string
	Subject     *string
}

// AuditLog is append-only: entries are recorded and read, never changed. The audit
// package implements it.
type AuditLog interface {
	Record(ctx context.Context, e AuditEntry) error
	// Entries returns entries matching f, newest first.
	Entries(ctx context.Context, f AuditFilter, limit int) ([]AuditEntry, error)
}
