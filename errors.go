// Package aidhub holds what every part of the hub shares: the error type with
// its codes, and the domain's vocabulary — days and dates, the watchlist
// colours, money in fen, the catalog of groups, categories, items and plans
// with the duplicate-aid rule, paging, optional patch fields and the text
// checks. It imports no other package of the hub, so every package can
// speak it. Domain packages return *Error for anything a caller can act on;
// the GraphQL layer presents those codes and hides every other error.
package aidhub

import (
	"errors"
	"fmt"
)

// Error codes shown to API clients in extensions.code.
const (
	EBADINPUT        = "BAD_USER_INPUT"
	EUNAUTHENTICATED = "UNAUTHENTICATED"
	EFORBIDDEN       = "FORBIDDEN"
	ENOTFOUND        = "NOT_FOUND"
	ECONFLICT        = "CONFLICT"
	EINTERNAL        = "INTERNAL"

	// EDUPLICATEAID: the same person or household already has aid in the
	// category for an overlapping period (重复帮扶).
	EDUPLICATEAID = "DUPLICATE_AID"
	// ECAPACITY: the resource has no units or budget left.
	ECAPACITY = "CAPACITY_EXHAUSTED"
	// ECONSENT: the household has not (or no longer) consented to this use.
	ECONSENT = "CONSENT_REQUIRED"
)

// Error is an application error whose Code and Message are safe to show.
type Error struct {
	Code    string
	Message string
	// Field names the input field at fault, when there is one.
	Field string
	// Existing points at the record a CONFLICT is about (the person who
	// already has this resident ID), shown as its global ID.
	Existing *Ref
	// MessageZh is the message in Chinese, for the errors a case manager
	// or a charity meets in their work (DUPLICATE_AID, …); "" when none.
	MessageZh string
	// Details are the figures behind the message (limits, dates), shown
	// as extensions beside the code; keys are camelCase, values JSON.
	Details map[string]any
}

// Ref names one stored record by type and key.
type Ref struct {
	Type string
	ID   int64
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a BAD_USER_INPUT error about one input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EBADINPUT, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of err: the *Error's message, or
// "internal error" for anything else.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		if e.Field != "" {
			return e.Field + ": " + e.Message
		}
		return e.Message
	}
	return "internal error"
}
