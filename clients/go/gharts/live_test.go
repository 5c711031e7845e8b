package gharts

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func contains(values []string, wanted string) bool {
	for _, value := range values {
		if value == wanted {
			return true
		}
	}
	return false
}

func TestLiveProvisionListDelete(t *testing.T) {
	env := live(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(env.mint(t, env.client)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	client := env.newClient(t, NewKubernetesTokenProvider(tokenFile))
	ctx := context.Background()

	created, err := client.ProvisionRunnerJIT(ctx, &JITProvisionRequest{
		TeamName: env.team, RunnerNamePrefix: "go-live", Labels: []string{"gpu-a100"},
	})
	if err != nil {
		t.Fatal(err)
	}
	listed, err := client.ListRunners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deleteErr := client.DeprovisionRunner(ctx, created.RunnerID)
	after, getErr := client.GetRunner(ctx, created.RunnerID)
	againErr := client.DeprovisionRunner(ctx, created.RunnerID)
	unknownErr := client.DeprovisionRunner(ctx, "00000000-0000-4000-8000-000000000000")

	if created.TeamName != env.team || !contains(created.Labels, "gpu-a100") {
		t.Errorf("provisioned %s", created)
	}
	if !strings.HasPrefix(created.RunnerName, "go-live") || created.EncodedJITConfig == "" {
		t.Errorf("name %q, JIT config of %d bytes", created.RunnerName, len(created.EncodedJITConfig))
	}
	if !strings.Contains(created.RunCommand, "--jitconfig") || created.ExpiresAt.Before(time.Now()) {
		t.Errorf("run command %q, expires %s", created.RunCommand, created.ExpiresAt)
	}
	found := false
	for _, runner := range listed {
		found = found || runner.RunnerID == created.RunnerID
	}
	if !found {
		t.Errorf("runner %s not in the list of %d runners", created.RunnerID, len(listed))
	}
	if deleteErr != nil || getErr != nil || after.Status != "deleted" {
		t.Errorf("delete: %v, get: %v, status after: %v", deleteErr, getErr, after)
	}
	if againErr != nil {
		t.Errorf("deleting a deleted runner: %v", againErr)
	}
	if !IsNotFound(unknownErr) || !HasCode(unknownErr, CodeRunnerNotFound) {
		t.Errorf("deleting an unknown runner: %v", unknownErr)
	}
}

func TestLiveExpiredTokenIsRefreshedOnce(t *testing.T) {
	env := live(t)
	provider := &sequenceProvider{tokens: []string{env.expiredToken, env.mint(t, env.client)}}
	events := &recorder{}
	client := env.newClient(t, provider, func(c *Config) { c.OnRetry = events.onRetry })

	runners, err := client.ListRunners(context.Background())

	retried, _ := events.snapshot()
	if err != nil || runners == nil {
		t.Fatalf("after a refresh the call should succeed: %v", err)
	}
	if provider.gets != 1 || provider.refreshes != 1 {
		t.Errorf("GetToken %d times, RefreshToken %d times; want 1 and 1", provider.gets, provider.refreshes)
	}
	if got := statuses(retried); len(got) != 1 || got[0] != "401 INVALID_TOKEN" {
		t.Errorf("retries: %v", got)
	}
}

func TestLiveARefusedFreshTokenIsNotRetriedAgain(t *testing.T) {
	env := live(t)
	provider := &sequenceProvider{tokens: []string{env.expiredToken}}
	client := env.newClient(t, provider)

	_, err := client.ListRunners(context.Background())

	apiErr, ok := AsError(err)
	if !ok || apiErr.StatusCode != http.StatusUnauthorized || apiErr.ErrorCode != CodeInvalidToken {
		t.Fatalf("want 401 INVALID_TOKEN, got %v", err)
	}
	if provider.gets+provider.refreshes != 2 {
		t.Errorf("%d tokens asked for; want 2 (one refresh)", provider.gets+provider.refreshes)
	}
}

func TestLivePolicyViolationIsNotRetried(t *testing.T) {
	env := live(t)
	events := &recorder{}
	client := env.newClient(t, StaticTokenProvider(env.mint(t, env.client)),
		func(c *Config) { c.OnRetry = events.onRetry; c.Sleep = events.instantSleep })

	_, err := client.ProvisionRunnerJIT(context.Background(), &JITProvisionRequest{
		RunnerNamePrefix: "go-policy", Labels: []string{"forbidden-label"},
	})

	apiErr, ok := AsError(err)
	if !ok || apiErr.StatusCode != http.StatusForbidden || apiErr.ErrorCode != CodeLabelPolicyViolation {
		t.Fatalf("want 403 LABEL_POLICY_VIOLATION, got %v", err)
	}
	if len(apiErr.Violations) != 1 || apiErr.Violations[0].Label != "forbidden-label" {
		t.Errorf("violations: %+v", apiErr.Violations)
	}
	if retried, _ := events.snapshot(); len(retried) != 0 || IsRetryableError(err) {
		t.Errorf("a policy violation was retried: %v", statuses(retried))
	}
}

func TestLiveQuotaExceededWaitsRetryAfter(t *testing.T) {
	env := live(t)
	clientID := env.quotaTeam(t, 1)
	token := StaticTokenProvider(env.mint(t, clientID))
	plain := env.newClient(t, token)
	first, err := plain.ProvisionRunnerJIT(context.Background(), &JITProvisionRequest{
		RunnerNamePrefix: "go-quota", Labels: []string{"size-small"},
	})
	if err != nil {
		t.Fatal(err)
	}
	events := &recorder{}
	var freed error
	// While the client waits out Retry-After, the first runner goes away and frees the slot.
	waitThenFree := func(ctx context.Context, d time.Duration) error {
		_ = events.instantSleep(ctx, d)
		freed = plain.DeprovisionRunner(ctx, first.RunnerID)
		return nil
	}
	client := env.newClient(t, token, func(c *Config) { c.OnRetry = events.onRetry; c.Sleep = waitThenFree })

	second, err := client.ProvisionRunnerJIT(context.Background(), &JITProvisionRequest{
		RunnerNamePrefix: "go-quota", Labels: []string{"size-small"},
	})

	retried, waits := events.snapshot()
	if err != nil || freed != nil {
		t.Fatalf("provision after the wait: %v (freeing the slot: %v)", err, freed)
	}
	if got := statuses(retried); len(got) != 1 || got[0] != "429 QUOTA_EXCEEDED" {
		t.Fatalf("retries: %v", got)
	}
	refused, _ := AsError(retried[0].Err)
	if refused.RetryAfter <= 0 || len(waits) != 1 || waits[0] != refused.RetryAfter {
		t.Errorf("Retry-After %s, waits %v: the client must wait exactly Retry-After", refused.RetryAfter, waits)
	}
	if second.RunnerID == first.RunnerID {
		t.Errorf("the same runner twice: %s", second.RunnerID)
	}
}

func TestLiveQuotaRetryAfterBeyondTheDeadlineReturnsAtOnce(t *testing.T) {
	env := live(t)
	token := StaticTokenProvider(env.mint(t, env.quotaTeam(t, 1)))
	client := env.newClient(t, token)
	if _, err := client.ProvisionRunnerJIT(context.Background(), &JITProvisionRequest{
		RunnerNamePrefix: "go-quota", Labels: []string{"size-small"},
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	started := time.Now()

	_, err := client.ProvisionRunnerJIT(ctx, &JITProvisionRequest{
		RunnerNamePrefix: "go-quota", Labels: []string{"size-small"},
	})

	elapsed := time.Since(started)
	apiErr, ok := AsError(err)
	if !ok || apiErr.ErrorCode != CodeQuotaExceeded || apiErr.RetryAfter <= 5*time.Second {
		t.Fatalf("want QUOTA_EXCEEDED with a Retry-After beyond the deadline, got %v", err)
	}
	if elapsed >= 5*time.Second || ctx.Err() != nil {
		t.Errorf("returned after %s: a wait that cannot end before the deadline is not started", elapsed)
	}
}

func TestLiveGitHubFaultsAreRetriedThenSucceed(t *testing.T) {
	env := live(t)
	cases := []struct {
		name   string
		faults map[string]interface{}
		want   string
		wait   time.Duration // the wait Retry-After imposes, 0 for a backoff
	}{
		{"github 503", map[string]interface{}{"status": 503}, "502 GITHUB_UNAVAILABLE", 0},
		{"github 502", map[string]interface{}{"status": 502}, "502 GITHUB_UNAVAILABLE", 0},
		{"github secondary rate limit", map[string]interface{}{"secondary_limit": true, "retry_after": 2},
			"503 GITHUB_RATE_LIMITED", 2 * time.Second},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			env.setFaults(t, tc.faults)
			events := &recorder{}
			// GitHub recovers while the client backs off from its first failure.
			recovered := func(event RetryEvent) {
				events.onRetry(event)
				env.clearFaults(t)
			}
			client := env.newClient(t, StaticTokenProvider(env.mint(t, env.client)),
				func(c *Config) { c.OnRetry = recovered; c.Sleep = events.instantSleep })

			created, err := client.ProvisionRunnerJIT(context.Background(), &JITProvisionRequest{
				RunnerNamePrefix: "go-fault", Labels: []string{"gpu-a100"},
			})

			retried, waits := events.snapshot()
			if err != nil {
				t.Fatalf("after the fault cleared the call should succeed: %v (retries %v)", err, statuses(retried))
			}
			defer func() { _ = client.DeprovisionRunner(context.Background(), created.RunnerID) }()
			if got := statuses(retried); len(got) != 1 || got[0] != tc.want {
				t.Errorf("retries: %v, want [%s]", got, tc.want)
			}
			if len(waits) != 1 || (tc.wait > 0 && waits[0] != tc.wait) || waits[0] <= 0 {
				t.Errorf("waits %v, want one (of %s when Retry-After says so)", waits, tc.wait)
			}
		})
	}
}

func TestLiveCancellationMidBackoffStopsEverything(t *testing.T) {
	env := live(t)
	env.setFaults(t, map[string]interface{}{"status": 503})
	retrying := make(chan RetryEvent, 10)
	client := env.newClient(t, StaticTokenProvider(env.mint(t, env.client)), func(c *Config) {
		c.RetryConfig = RetryConfig{MaxRetries: 5, InitialBackoff: time.Minute, MaxBackoff: time.Minute, Multiplier: 2}
		c.OnRetry = func(event RetryEvent) { retrying <- event }
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-retrying // the first attempt failed: the client now waits about a minute
		cancel()
	}()
	started := time.Now()

	_, err := client.ProvisionRunnerJIT(ctx, &JITProvisionRequest{
		RunnerNamePrefix: "go-cancel", Labels: []string{"gpu-a100"},
	})

	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if elapsed := time.Since(started); elapsed > 30*time.Second {
		t.Errorf("returned after %s; the backoff should have stopped at the cancellation", elapsed)
	}
	if len(retrying) != 0 {
		t.Errorf("%d more attempts after the cancellation", len(retrying))
	}
}

func TestLiveKubernetesTokenFileIsReadAgainWhenRotated(t *testing.T) {
	env := live(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	write := func(token string) {
		// The kubelet replaces the file atomically (a symlink swap); a rename does the same.
		next := tokenFile + ".next"
		if err := os.WriteFile(next, []byte(token), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(next, tokenFile); err != nil {
			t.Fatal(err)
		}
	}
	write(env.mint(t, env.client))
	client := env.newClient(t, NewKubernetesTokenProvider(tokenFile))
	ctx := context.Background()

	_, before := client.ListRunners(ctx)
	write("not-a-token")
	_, broken := client.ListRunners(ctx)
	write(env.mint(t, env.client))
	_, after := client.ListRunners(ctx)

	if before != nil || after != nil {
		t.Errorf("with a valid token file: %v, %v", before, after)
	}
	if apiErr, ok := AsError(broken); !ok || apiErr.StatusCode != http.StatusUnauthorized {
		t.Errorf("the rotated (invalid) token was not used: %v", broken)
	}
}

func TestLiveExternalOIDCProviderDoesTheClientCredentialsGrant(t *testing.T) {
	env := live(t)
	grants := make(chan map[string]string, 10)
	access := env.mint(t, env.client)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		form := map[string]string{}
		for name := range r.PostForm {
			form[name] = r.PostForm.Get(name)
		}
		grants <- form
		if form["client_secret"] != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"access_denied","error_description":"Unauthorized"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"` + access + `","token_type":"Bearer","expires_in":3600}`))
	}))
	defer endpoint.Close()
	provider := NewExternalOIDCProvider(endpoint.URL, env.client, "s3cret", "gharts")
	client := env.newClient(t, provider)
	ctx := context.Background()

	_, first := client.ListRunners(ctx)
	_, second := client.ListRunners(ctx)
	wrong := NewExternalOIDCProvider(endpoint.URL, env.client, "wrong", "gharts")
	_, refused := env.newClient(t, wrong).ListRunners(ctx)

	if first != nil || second != nil {
		t.Fatalf("with the provider's token: %v, %v", first, second)
	}
	grant := <-grants
	want := map[string]string{
		"grant_type": "client_credentials", "client_id": env.client, "client_secret": "s3cret", "audience": "gharts",
	}
	for name, value := range want {
		if grant[name] != value {
			t.Errorf("grant %s = %q, want %q", name, grant[name], value)
		}
	}
	if len(grants) != 1 { // the second call used the cached token; the third was refused
		t.Errorf("%d more grants; the token should be cached", len(grants)-1)
	}
	var tokenErr *TokenError
	if !errors.As(refused, &tokenErr) || !strings.Contains(refused.Error(), "access_denied") {
		t.Errorf("a refused grant: %v", refused)
	}
}
