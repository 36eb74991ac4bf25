// Package fengqiao is the domain of the hub: the events, people, organizations,
// projects and org units that every upstream is mapped into, the interfaces the
// other packages implement, and the application error codes.
package fengqiao

import (
	"errors"
	"fmt"
)

// Application error codes. Transport layers map each to their own form in one table.
const (
	EINVALID      = "invalid"      // the caller sent something malformed
	ENOTFOUND     = "not_found"    // the thing does not exist or is outside the caller's scope
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // valid credentials, but not allowed
	ELIMIT        = "limit"        // a query or request limit was exceeded
	EUNAVAILABLE  = "unavailable"  // an upstream or backend cannot answer now
	EINTERNAL     = "internal"     // a bug or unexpected failure; details are logged, not shown
)

// Error is an application error with a code and a message safe to show users (in Chinese).
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("fengqiao: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the application error in err's chain, EINTERNAL for
// any other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the application error in err's
// chain, or a generic internal-error message for any other error.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	}
	return "系统内部错误，请稍后重试或联系管理员"
}
