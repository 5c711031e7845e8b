package gharts

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error is an answer of gharts other than success: its HTTP status, its error_code, its
// sentence, and how long it asked the caller to wait (Retry-After, zero when absent).
type Error struct {
	Method     string
	Path       string
	StatusCode int
	ErrorCode  string
	Detail     string
	RetryAfter time.Duration
	Violations []Violation
	RequestID  string
}

// Error says what failed, with the status and error_code ARC logs and keys on.
func (e *Error) Error() string {
	code := e.ErrorCode
	if code == "" {
		code = http.StatusText(e.StatusCode)
	}
	message := fmt.Sprintf("gharts: %s %s: %d %s: %s", e.Method, e.Path, e.StatusCode, code, e.Detail)
	if e.RetryAfter > 0 {
		message += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return message
}

// Retryable reports whether the same request may succeed later (see IsRetryable).
func (e *Error) Retryable() bool {
	return IsRetryable(e.StatusCode, e.ErrorCode)
}

// AsError returns the *Error inside err, if there is one.
func AsError(err error) (*Error, bool) {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr, true
	}
	return nil, false
}

// HasCode reports whether err is a gharts answer with this error_code.
func HasCode(err error, code string) bool {
	apiErr, ok := AsError(err)
	return ok && apiErr.ErrorCode == code
}

// IsNotFound reports whether gharts does not know the runner (or does not let the caller see it).
func IsNotFound(err error) bool {
	apiErr, ok := AsError(err)
	return ok && apiErr.StatusCode == http.StatusNotFound
}

// TokenError says that no token could be obtained from the TokenProvider.
type TokenError struct {
	Err error
}

func (e *TokenError) Error() string { return "gharts: no token: " + e.Err.Error() }

// Unwrap returns the provider's error.
func (e *TokenError) Unwrap() error { return e.Err }
