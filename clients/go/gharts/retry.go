package gharts

import (
	"context"
	"errors"
	"math/rand"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RetryConfig defines how transient failures are retried. MaxRetries counts the attempts after
// the first one (a 401 answered by refreshing the token is not counted: it happens once).
type RetryConfig struct {
	MaxRetries     int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	Multiplier     float64
}

// DefaultRetryConfig returns the defaults of the integration design: 3 retries, 1 s doubling
// up to 30 s.
func DefaultRetryConfig() RetryConfig {
	return RetryConfig{
		MaxRetries:     3,
		InitialBackoff: 1 * time.Second,
		MaxBackoff:     30 * time.Second,
		Multiplier:     2.0,
	}
}

// IsRetryable reports whether a request answered with statusCode and errorCode may succeed if
// sent again, following the error table of the integration design: 401 (after a token
// refresh), 429 (after Retry-After) and 500/502/503/504 (after a backoff) are retried; a 403 is
// a decision of the team policy or of an admin (LABEL_POLICY_VIOLATION, USER_NOT_AUTHORIZED,
// TEAM_INACTIVE, ...) and is never retried, nor is any 400 or 404.
func IsRetryable(statusCode int, errorCode string) bool {
	switch statusCode {
	case http.StatusUnauthorized, http.StatusTooManyRequests:
		return true
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	default:
		return false
	}
}

// IsRetryableError reports whether err, as returned by a Client method, is worth retrying
// later (by the caller's own reconcile loop): a retryable gharts answer or a network failure.
// Context cancellation and token provider failures are not.
func IsRetryableError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if apiErr, ok := AsError(err); ok {
		return apiErr.Retryable()
	}
	var tokenErr *TokenError
	return !errors.As(err, &tokenErr)
}

// RetryEvent describes one retry the client is about to make, for logs and metrics.
type RetryEvent struct {
	Method  string
	Path    string
	Attempt int           // the attempt that failed, from 1
	Err     error         // why it failed
	Wait    time.Duration // how long the client waits before the next attempt
}

// backoff returns the wait before retry number retry (from 1): exponential with equal jitter,
// so the wait is between half and all of InitialBackoff * Multiplier^(retry-1), capped.
func (c RetryConfig) backoff(retry int, random func() float64) time.Duration {
	ceiling := float64(c.InitialBackoff)
	for i := 1; i < retry; i++ {
		ceiling *= c.Multiplier
		if ceiling >= float64(c.MaxBackoff) {
			break
		}
	}
	if ceiling > float64(c.MaxBackoff) {
		ceiling = float64(c.MaxBackoff)
	}
	half := ceiling / 2
	return time.Duration(half + half*random())
}

func (c RetryConfig) orDefault() RetryConfig {
	if c == (RetryConfig{}) {
		return DefaultRetryConfig()
	}
	if c.Multiplier < 1 {
		c.Multiplier = 1
	}
	if c.MaxBackoff < c.InitialBackoff {
		c.MaxBackoff = c.InitialBackoff
	}
	return c
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(header string, now time.Time) time.Duration {
	if header == "" {
		return 0
	}
	if seconds, err := strconv.Atoi(header); err == nil && seconds >= 0 {
		return time.Duration(seconds) * time.Second
	}
	if when, err := http.ParseTime(header); err == nil && when.After(now) {
		return when.Sub(now)
	}
	return 0
}

// sleep waits d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lockedRandom is a math/rand source safe for concurrent use, seeded once per client.
type lockedRandom struct {
	mu     sync.Mutex
	source *rand.Rand
}

func newLockedRandom() *lockedRandom {
	return &lockedRandom{source: rand.New(rand.NewSource(time.Now().UnixNano()))} //nolint:gosec // jitter, not secrets
}

func (r *lockedRandom) Float64() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.source.Float64()
}
