package gharts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// A request that gets no HTTP answer (the connection drops) is retried with a backoff.
func TestANetworkErrorIsRetriedWithBackoff(t *testing.T) {
	var calls int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if atomic.AddInt32(&calls, 1) == 1 {
			connection, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = connection.Close() // no status line at all
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"runners": [], "total": 0}`))
	}))
	defer server.Close()
	events := &recorder{}
	client, err := NewClient(Config{
		BaseURL: server.URL, OIDCTokenProvider: StaticTokenProvider("t"),
		OnRetry: events.onRetry, Sleep: events.instantSleep,
	})
	if err != nil {
		t.Fatal(err)
	}

	runners, err := client.ListRunners(context.Background())

	retried, waits := events.snapshot()
	if err != nil || len(runners) != 0 {
		t.Fatalf("after the dropped connection the call should succeed: %v", err)
	}
	if len(retried) != 1 || !isNetworkError(retried[0].Err) || len(waits) != 1 {
		t.Fatalf("retries %v, waits %v", statuses(retried), waits)
	}
	if waits[0] < 500*time.Millisecond || waits[0] > time.Second {
		t.Errorf("first backoff %s, want between half and all of InitialBackoff (1s)", waits[0])
	}
}

// MaxRetries bounds the attempts: the last error is returned, with its status and code.
func TestRetriesStopAfterMaxRetries(t *testing.T) {
	var calls int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt32(&calls, 1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-ID", "req-1")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(`{"detail": "GitHub is unavailable.", "error_code": "GITHUB_UNAVAILABLE"}`))
	}))
	defer server.Close()
	events := &recorder{}
	client, err := NewClient(Config{
		BaseURL: server.URL, OIDCTokenProvider: StaticTokenProvider("t"), Sleep: events.instantSleep,
		RetryConfig: RetryConfig{MaxRetries: 2, InitialBackoff: time.Second, MaxBackoff: 4 * time.Second, Multiplier: 2},
	})
	if err != nil {
		t.Fatal(err)
	}

	err = client.DeprovisionRunner(context.Background(), "r-1")

	apiErr, ok := AsError(err)
	if !ok || apiErr.StatusCode != 502 || apiErr.ErrorCode != CodeGitHubUnavailable || apiErr.RequestID != "req-1" {
		t.Fatalf("want the last 502 GITHUB_UNAVAILABLE, got %v", err)
	}
	if _, waits := events.snapshot(); atomic.LoadInt32(&calls) != 3 || len(waits) != 2 || waits[1] < time.Second {
		t.Errorf("%d attempts, waits %v; want 3 attempts and a growing backoff", calls, waits)
	}
}
