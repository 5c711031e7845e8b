package gharts

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// TokenProvider interface for obtaining OIDC tokens.
type TokenProvider interface {
	// GetToken returns a valid JWT token for authenticating with GHARTS.
	GetToken(ctx context.Context) (string, error)
}

// TokenRefresher is a TokenProvider that can fetch a fresh token, bypassing its cache. The
// client calls RefreshToken once when gharts answers 401 (the cached token expired or was
// revoked); providers without it are asked GetToken again.
type TokenRefresher interface {
	TokenProvider
	RefreshToken(ctx context.Context) (string, error)
}

// DefaultKubernetesTokenPath is where the integration design mounts the projected token.
const DefaultKubernetesTokenPath = "/var/run/secrets/tokens/oidc-token"

// refreshMargin is how long before its exp a cached token is replaced.
const refreshMargin = 30 * time.Second

// maxTokenBytes bounds a token file or a token endpoint answer.
const maxTokenBytes = 64 << 10

// KubernetesTokenProvider reads a projected service-account token from a file, the way the
// kubelet provides one with the gharts audience (a serviceAccountToken volume projection).
//
// The kubelet rotates the file in place (at 80 % of the token's lifetime), so the file is read
// again whenever it changed (modification time or size), when the cached token is within 30 s
// of its exp, and on RefreshToken. The token is never verified here: gharts does that.
type KubernetesTokenProvider struct {
	path string
	now  func() time.Time

	mu      sync.Mutex
	token   string
	modTime time.Time
	size    int64
	expires time.Time
}

// NewKubernetesTokenProvider reads tokens from path (DefaultKubernetesTokenPath when empty).
func NewKubernetesTokenProvider(path string) *KubernetesTokenProvider {
	if path == "" {
		path = DefaultKubernetesTokenPath
	}
	return &KubernetesTokenProvider{path: path, now: time.Now}
}

// Path is the token file this provider reads.
func (p *KubernetesTokenProvider) Path() string { return p.path }

// GetToken returns the token in the file, read again if the file changed or the token is
// about to expire.
func (p *KubernetesTokenProvider) GetToken(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	info, err := os.Stat(p.path)
	if err != nil {
		return "", fmt.Errorf("service-account token file: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	stale := p.token == "" || !info.ModTime().Equal(p.modTime) || info.Size() != p.size ||
		(!p.expires.IsZero() && p.now().Add(refreshMargin).After(p.expires))
	if stale {
		return p.readLocked()
	}
	return p.token, nil
}

// RefreshToken reads the file again whatever the cache says.
func (p *KubernetesTokenProvider) RefreshToken(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.readLocked()
}

func (p *KubernetesTokenProvider) readLocked() (string, error) {
	file, err := os.Open(p.path)
	if err != nil {
		return "", fmt.Errorf("service-account token file: %w", err)
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return "", fmt.Errorf("service-account token file: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(file, maxTokenBytes+1))
	if err != nil {
		return "", fmt.Errorf("service-account token file: %w", err)
	}
	if len(raw) > maxTokenBytes {
		return "", fmt.Errorf("service-account token file %s is larger than %d bytes", p.path, maxTokenBytes)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return "", fmt.Errorf("service-account token file %s is empty", p.path)
	}
	p.token, p.modTime, p.size, p.expires = token, info.ModTime(), info.Size(), expiry(token)
	return token, nil
}

// expiry returns the exp claim of a JWT, unverified, or the zero time when it has none.
func expiry(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp *float64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == nil {
		return time.Time{}
	}
	return time.Unix(int64(*claims.Exp), 0)
}

// AuthStyle says how ExternalOIDCProvider sends its client credentials.
type AuthStyle int

const (
	// AuthStyleInParams sends client_id and client_secret in the form (Auth0's default).
	AuthStyleInParams AuthStyle = iota
	// AuthStyleBasic sends them as HTTP Basic authentication (Okta, Keycloak, Entra).
	AuthStyleBasic
)

// ExternalOIDCProvider for external OIDC providers (Auth0, Okta, etc.): the OAuth 2.0
// client-credentials grant against TokenURL, the access token cached until 30 s before it
// expires.
type ExternalOIDCProvider struct {
	ClientID     string
	ClientSecret string
	TokenURL     string
	// Audience is sent as the audience parameter (Auth0) when set.
	Audience string
	// Scope is sent as the scope parameter when set.
	Scope      string
	AuthStyle  AuthStyle
	HTTPClient *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
	now     func() time.Time
}

// NewExternalOIDCProvider returns a client-credentials provider.
func NewExternalOIDCProvider(tokenURL, clientID, clientSecret, audience string) *ExternalOIDCProvider {
	return &ExternalOIDCProvider{TokenURL: tokenURL, ClientID: clientID, ClientSecret: clientSecret, Audience: audience}
}

// GetToken returns the cached access token, or obtains a new one.
func (p *ExternalOIDCProvider) GetToken(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token != "" && p.clock().Add(refreshMargin).Before(p.expires) {
		return p.token, nil
	}
	return p.fetchLocked(ctx)
}

// RefreshToken obtains a new access token whatever the cache says.
func (p *ExternalOIDCProvider) RefreshToken(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetchLocked(ctx)
}

func (p *ExternalOIDCProvider) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

type tokenAnswer struct {
	AccessToken      string   `json:"access_token"`
	TokenType        string   `json:"token_type"`
	ExpiresIn        *float64 `json:"expires_in"`
	Error            string   `json:"error"`
	ErrorDescription string   `json:"error_description"`
}

func (p *ExternalOIDCProvider) fetchLocked(ctx context.Context) (string, error) {
	if p.TokenURL == "" || p.ClientID == "" {
		return "", errors.New("client-credentials grant: TokenURL and ClientID are required")
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if p.Audience != "" {
		form.Set("audience", p.Audience)
	}
	if p.Scope != "" {
		form.Set("scope", p.Scope)
	}
	if p.AuthStyle == AuthStyleInParams {
		form.Set("client_id", p.ClientID)
		form.Set("client_secret", p.ClientSecret)
	}
	request, err := http.NewRequestWithContext(ctx, http.MethodPost, p.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("client-credentials grant: %w", err)
	}
	request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	request.Header.Set("Accept", "application/json")
	if p.AuthStyle == AuthStyleBasic {
		request.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret))
	}
	client := p.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	started := p.clock()
	response, err := client.Do(request)
	if err != nil {
		return "", fmt.Errorf("client-credentials grant: %w", err)
	}
	defer response.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(response.Body, maxTokenBytes))
	if err != nil {
		return "", fmt.Errorf("client-credentials grant: %w", err)
	}
	var answer tokenAnswer
	decodeErr := json.Unmarshal(raw, &answer)
	if response.StatusCode != http.StatusOK {
		if decodeErr == nil && answer.Error != "" {
			return "", fmt.Errorf("client-credentials grant: %s answered %d %s: %s", p.TokenURL, response.StatusCode, answer.Error, answer.ErrorDescription)
		}
		return "", fmt.Errorf("client-credentials grant: %s answered %d", p.TokenURL, response.StatusCode)
	}
	if decodeErr != nil || answer.AccessToken == "" {
		return "", fmt.Errorf("client-credentials grant: %s answered no access_token", p.TokenURL)
	}
	p.token = answer.AccessToken
	p.expires = expiry(answer.AccessToken)
	if answer.ExpiresIn != nil {
		p.expires = started.Add(time.Duration(*answer.ExpiresIn * float64(time.Second)))
	}
	if p.expires.IsZero() {
		p.expires = started.Add(5 * time.Minute)
	}
	return p.token, nil
}

// StaticTokenProvider returns one fixed token (for scripts and tests; it cannot refresh).
type StaticTokenProvider string

// GetToken returns the token.
func (s StaticTokenProvider) GetToken(context.Context) (string, error) {
	if s == "" {
		return "", errors.New("empty static token")
	}
	return string(s), nil
}
