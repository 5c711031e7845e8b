// Package gharts is the client of the GitHub Actions Runner Token Service (gharts) for Actions
// Runner Controller and other Go programs: JIT runner provisioning with OIDC tokens, typed
// errors carrying the HTTP status, error_code and Retry-After, and the retry rules of the ARC
// integration design (see docs/arc.md in the gharts repository).
//
// It depends on the Go standard library only.
package gharts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// maxResponseBytes bounds what the client reads of any gharts answer.
	maxResponseBytes = 4 << 20
	// listPageSize is the page size ListRunners asks for (the server's maximum).
	listPageSize   = 500
	defaultTimeout = 30 * time.Second
	userAgent      = "gharts-go/1"
)

// Config contains configuration for the GHARTS client.
type Config struct {
	// BaseURL is the GHARTS API base URL (e.g., "https://gharts.example.com").
	BaseURL string

	// OIDCTokenProvider provides JWT tokens for authenticating with GHARTS.
	OIDCTokenProvider TokenProvider

	// HTTPClient for making requests (optional: a client with a 30 s timeout when nil).
	HTTPClient *http.Client

	// RetryConfig for handling transient failures (DefaultRetryConfig when zero).
	RetryConfig RetryConfig

	// OnRetry, when set, is called before each retry (for logs and metrics).
	OnRetry func(RetryEvent)

	// Sleep waits between attempts; nil means a timer that stops when the context is done.
	// Tests replace it to observe the waits without spending them.
	Sleep func(ctx context.Context, d time.Duration) error

	// UserAgent is sent as User-Agent (default "gharts-go/1").
	UserAgent string
}

// Client wraps GHARTS API operations. It is safe for concurrent use.
type Client struct {
	baseURL       *url.URL
	tokenProvider TokenProvider
	httpClient    *http.Client
	retryConfig   RetryConfig
	onRetry       func(RetryEvent)
	sleep         func(context.Context, time.Duration) error
	userAgent     string
	random        *lockedRandom
}

// NewClient checks cfg and returns a client. BaseURL must be an absolute http or https URL.
func NewClient(cfg Config) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("gharts: BaseURL %q must be an absolute https (or http) URL", cfg.BaseURL)
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("gharts: BaseURL %q must not carry a query or a fragment", cfg.BaseURL)
	}
	if cfg.OIDCTokenProvider == nil {
		return nil, errors.New("gharts: OIDCTokenProvider is required")
	}
	client := &Client{
		baseURL:       base,
		tokenProvider: cfg.OIDCTokenProvider,
		httpClient:    cfg.HTTPClient,
		retryConfig:   cfg.RetryConfig.orDefault(),
		onRetry:       cfg.OnRetry,
		sleep:         cfg.Sleep,
		userAgent:     cfg.UserAgent,
		random:        newLockedRandom(),
	}
	if client.httpClient == nil {
		client.httpClient = &http.Client{Timeout: defaultTimeout}
	}
	if client.sleep == nil {
		client.sleep = sleep
	}
	if client.userAgent == "" {
		client.userAgent = userAgent
	}
	return client, nil
}

// ProvisionRunnerJIT provisions a runner using JIT configuration.
func (c *Client) ProvisionRunnerJIT(ctx context.Context, req *JITProvisionRequest) (*JITProvisionResponse, error) {
	if req == nil {
		return nil, errors.New("gharts: ProvisionRunnerJIT needs a request")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("gharts: encoding the request: %w", err)
	}
	var created JITProvisionResponse
	if err := c.do(ctx, http.MethodPost, "/api/v1/runners/jit", nil, body, http.StatusCreated, &created); err != nil {
		return nil, err
	}
	return &created, nil
}

// DeprovisionRunner removes a runner from GitHub and marks it deleted in gharts. Deleting a
// runner that is already deleted succeeds; an unknown runner is an *Error with IsNotFound.
func (c *Client) DeprovisionRunner(ctx context.Context, runnerID string) error {
	if runnerID == "" {
		return errors.New("gharts: DeprovisionRunner needs a runner id")
	}
	path := "/api/v1/runners/" + url.PathEscape(runnerID)
	var deleted RunnerStatus
	return c.do(ctx, http.MethodDelete, path, nil, nil, http.StatusOK, &deleted)
}

// GetRunner returns one runner the caller may see.
func (c *Client) GetRunner(ctx context.Context, runnerID string) (*RunnerStatus, error) {
	if runnerID == "" {
		return nil, errors.New("gharts: GetRunner needs a runner id")
	}
	var runner RunnerStatus
	path := "/api/v1/runners/" + url.PathEscape(runnerID)
	if err := c.do(ctx, http.MethodGet, path, nil, nil, http.StatusOK, &runner); err != nil {
		return nil, err
	}
	return &runner, nil
}

// ListRunners lists all runners provisioned by the authenticated user: every page of
// GET /api/v1/runners without filters (ListRunnersMatching filters by status, team or label).
func (c *Client) ListRunners(ctx context.Context) ([]*RunnerStatus, error) {
	return c.ListRunnersMatching(ctx, RunnerFilter{})
}

// ListRunnersMatching lists, page by page, the runners that match filter.
func (c *Client) ListRunnersMatching(ctx context.Context, filter RunnerFilter) ([]*RunnerStatus, error) {
	runners := []*RunnerStatus{}
	for {
		query := url.Values{}
		query.Set("limit", strconv.Itoa(listPageSize))
		query.Set("offset", strconv.Itoa(len(runners)))
		for name, value := range map[string]string{
			"status": filter.Status, "team_name": filter.TeamName, "label": filter.Label,
		} {
			if value != "" {
				query.Set(name, value)
			}
		}
		var page runnerList
		if err := c.do(ctx, http.MethodGet, "/api/v1/runners", query, nil, http.StatusOK, &page); err != nil {
			return nil, err
		}
		runners = append(runners, page.Runners...)
		if len(page.Runners) == 0 || len(runners) >= page.Total {
			return runners, nil
		}
	}
}

// do sends one logical request with the retry rules and decodes a success into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte, want int, out interface{}) error {
	refreshed, fresh := false, false
	retries := 0
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		token, err := c.token(ctx, fresh)
		fresh = false
		if err != nil {
			return err
		}
		err = c.once(ctx, method, path, query, body, token, want, out)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		apiErr, isAPI := AsError(err)
		if isAPI && apiErr.StatusCode == http.StatusUnauthorized {
			if refreshed {
				return err // a fresh token was refused too: the credentials are wrong
			}
			refreshed, fresh = true, true
			c.notify(RetryEvent{Method: method, Path: path, Attempt: attempt, Err: err})
			continue
		}
		if isAPI && !apiErr.Retryable() {
			return err
		}
		if !isAPI && !isNetworkError(err) {
			return err
		}
		if retries >= c.retryConfig.MaxRetries {
			return err
		}
		retries++
		wait := c.retryConfig.backoff(retries, c.random.Float64)
		if isAPI && apiErr.RetryAfter > 0 {
			wait = apiErr.RetryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return err // the answer cannot come in time: say so now rather than at the deadline
		}
		c.notify(RetryEvent{Method: method, Path: path, Attempt: attempt, Err: err, Wait: wait})
		if sleepErr := c.sleep(ctx, wait); sleepErr != nil {
			return sleepErr
		}
	}
}

// token returns the provider's token, a fresh one when fresh is set.
func (c *Client) token(ctx context.Context, fresh bool) (string, error) {
	var (
		token string
		err   error
	)
	if refresher, ok := c.tokenProvider.(TokenRefresher); ok && fresh {
		token, err = refresher.RefreshToken(ctx)
	} else {
		token, err = c.tokenProvider.GetToken(ctx)
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", ctxErr
		}
		return "", &TokenError{Err: err}
	}
	if token == "" {
		return "", &TokenError{Err: errors.New("the token provider returned an empty token")}
	}
	return token, nil
}

func (c *Client) notify(event RetryEvent) {
	if c.onRetry != nil {
		c.onRetry(event)
	}
}

// once sends one HTTP request; a non-wanted status becomes an *Error.
func (c *Client) once(ctx context.Context, method, path string, query url.Values, body []byte, token string, want int, out interface{}) error {
	target := *c.baseURL
	target.Path = c.baseURL.Path + path
	target.RawQuery = query.Encode()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	request, err := http.NewRequestWithContext(ctx, method, target.String(), reader)
	if err != nil {
		return fmt.Errorf("gharts: %s %s: %w", method, path, err)
	}
	request.Header.Set("Authorization", "Bearer "+token)
	request.Header.Set("Accept", "application/json")
	request.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		request.Header.Set("Content-Type", "application/json")
	}
	response, err := c.httpClient.Do(request)
	if err != nil {
		return &networkError{method: method, path: path, err: err}
	}
	defer response.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(response.Body, maxResponseBytes))
	if err != nil {
		return &networkError{method: method, path: path, err: err}
	}
	if response.StatusCode != want {
		return decodeError(method, path, response, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("gharts: %s %s: the answer is not the expected JSON: %w", method, path, err)
	}
	return nil
}

func decodeError(method, path string, response *http.Response, raw []byte) *Error {
	apiErr := &Error{
		Method:     method,
		Path:       path,
		StatusCode: response.StatusCode,
		RequestID:  response.Header.Get("X-Request-ID"),
		RetryAfter: retryAfter(response.Header.Get("Retry-After"), time.Now()),
	}
	var body ErrorResponse
	if json.Unmarshal(raw, &body) == nil {
		apiErr.Detail = body.Detail
		apiErr.ErrorCode = body.ErrorCode
		apiErr.Violations = body.Violations
		if apiErr.RetryAfter == 0 && body.RetryAfter != nil && *body.RetryAfter > 0 {
			apiErr.RetryAfter = time.Duration(*body.RetryAfter * float64(time.Second))
		}
	}
	if apiErr.Detail == "" {
		apiErr.Detail = strings.TrimSpace(string(raw))
		if len(apiErr.Detail) > 200 {
			apiErr.Detail = apiErr.Detail[:200] + "..."
		}
	}
	return apiErr
}

// networkError is a request that got no HTTP answer (connection refused, reset, timeout).
type networkError struct {
	method, path string
	err          error
}

func (e *networkError) Error() string {
	return fmt.Sprintf("gharts: %s %s: %v", e.method, e.path, e.err)
}

func (e *networkError) Unwrap() error { return e.err }

// isNetworkError reports whether the request got no HTTP answer: worth a retry with backoff.
func isNetworkError(err error) bool {
	var network *networkError
	return errors.As(err, &network)
}
