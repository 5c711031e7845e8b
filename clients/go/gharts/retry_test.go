package gharts

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestIsRetryableFollowsTheErrorTable(t *testing.T) {
	cases := []struct {
		status int
		code   string
		want   bool
	}{
		{401, CodeInvalidToken, true},
		{403, CodeLabelPolicyViolation, false},
		{403, CodeUserNotAuthorized, false},
		{403, CodeTeamInactive, false},
		{429, CodeQuotaExceeded, true},
		{429, CodeRateLimited, true},
		{400, CodeInvalidLabels, false},
		{400, CodeValidationError, false},
		{404, CodeRunnerNotFound, false},
		{500, CodeInternalError, true},
		{502, CodeGitHubUnavailable, true},
		{503, CodeGitHubRateLimited, true},
		{503, CodeServiceUnavailable, true},
		{504, "", true},
		{409, "CONFLICT", false},
	}
	for _, tc := range cases {
		if got := IsRetryable(tc.status, tc.code); got != tc.want {
			t.Errorf("IsRetryable(%d, %q) = %v, want %v", tc.status, tc.code, got, tc.want)
		}
	}
}

func TestIsRetryableErrorSortsWhatAReconcilerMayRetry(t *testing.T) {
	cases := map[string]struct {
		err  error
		want bool
	}{
		"quota":     {&Error{StatusCode: 429, ErrorCode: CodeQuotaExceeded}, true},
		"policy":    {&Error{StatusCode: 403, ErrorCode: CodeLabelPolicyViolation}, false},
		"network":   {&networkError{method: "GET", path: "/", err: errors.New("connection refused")}, true},
		"cancelled": {context.Canceled, false},
		"deadline":  {context.DeadlineExceeded, false},
		"no token":  {&TokenError{Err: errors.New("no file")}, false},
		"nil":       {nil, false},
	}
	for name, tc := range cases {
		if got := IsRetryableError(tc.err); got != tc.want {
			t.Errorf("%s: IsRetryableError = %v, want %v", name, got, tc.want)
		}
	}
}

func TestBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	config := RetryConfig{MaxRetries: 10, InitialBackoff: time.Second, MaxBackoff: 8 * time.Second, Multiplier: 2}
	for retry, ceiling := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 9: 8 * time.Second} {
		low := config.backoff(retry, func() float64 { return 0 })
		high := config.backoff(retry, func() float64 { return 0.999999 })
		if low != ceiling/2 || high > ceiling || high < ceiling*99/100 {
			t.Errorf("retry %d: waits from %s to %s, want from %s to %s", retry, low, high, ceiling/2, ceiling)
		}
	}
}

func TestRetryAfterReadsSecondsAndDates(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"60":                            60 * time.Second,
		"0":                             0,
		"soon":                          0,
		"Sun, 01 Mar 2026 09:00:30 GMT": 30 * time.Second,
		"Sun, 01 Mar 2026 08:59:00 GMT": 0,
	}
	for header, want := range cases {
		if got := retryAfter(header, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", header, got, want)
		}
	}
}

func TestZeroRetryConfigMeansTheDefaults(t *testing.T) {
	client, err := NewClient(Config{BaseURL: "https://gharts.example.com/", OIDCTokenProvider: StaticTokenProvider("t")})
	if err != nil {
		t.Fatal(err)
	}
	if client.retryConfig != DefaultRetryConfig() || client.baseURL.String() != "https://gharts.example.com" {
		t.Errorf("retry %+v, base %s", client.retryConfig, client.baseURL)
	}
}

func TestNewClientRefusesAnUnusableConfig(t *testing.T) {
	for _, cfg := range []Config{
		{BaseURL: "gharts.example.com", OIDCTokenProvider: StaticTokenProvider("t")},
		{BaseURL: "ftp://gharts.example.com", OIDCTokenProvider: StaticTokenProvider("t")},
		{BaseURL: "https://gharts.example.com/?x=1", OIDCTokenProvider: StaticTokenProvider("t")},
		{BaseURL: "https://gharts.example.com"},
	} {
		if _, err := NewClient(cfg); err == nil {
			t.Errorf("NewClient(%+v) accepted", cfg)
		}
	}
}

func TestErrorMessageCarriesStatusCodeAndRetryAfter(t *testing.T) {
	err := &Error{Method: http.MethodPost, Path: "/api/v1/runners/jit", StatusCode: 429,
		ErrorCode: CodeQuotaExceeded, Detail: "Team 'demo' is at its quota of 10 runners.", RetryAfter: time.Minute}
	want := "gharts: POST /api/v1/runners/jit: 429 QUOTA_EXCEEDED: Team 'demo' is at its quota of 10 runners. (retry after 1m0s)"
	if err.Error() != want {
		t.Errorf("%q", err.Error())
	}
}
