package gharts

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// The live tests talk to a running gharts. They need these variables (the pytest wrapper
// tests/integration/test_go_client.py sets them after starting `gharts dev`):
//
//	GHARTS_TEST_URL                 the server, e.g. http://127.0.0.1:8000
//	GHARTS_TEST_ISSUER              the issuer of the tokens below, e.g. http://127.0.0.1:8000/dev/oidc
//	GHARTS_TEST_SIMULATOR_URL       the GitHub simulator's control API, e.g. http://127.0.0.1:8000/_github/_simulator
//	GHARTS_TEST_TOKEN_COMMAND       prints a machine client's token; the client id is appended,
//	                                e.g. "gharts dev token --client"
//	GHARTS_TEST_ADMIN_TOKEN_COMMAND prints an admin's token, e.g. "gharts dev token --email admin@gharts.dev"
//	GHARTS_TEST_CLIENT              a registered machine client of GHARTS_TEST_TEAM (demo-ci)
//	GHARTS_TEST_TEAM                its team (demo), whose policy allows gpu-* labels
//	GHARTS_TEST_EXPIRED_TOKEN       an expired token of GHARTS_TEST_CLIENT
//
// Without GHARTS_TEST_URL they skip, unless CI=true: then a missing variable fails the run.
const liveHelp = "set GHARTS_TEST_URL and friends (see live_support_test.go) or run " +
	"`python -m pytest tests/integration/test_go_client.py` from the gharts repository"

type liveEnv struct {
	url, issuer, simulator string
	tokenCommand           []string
	adminCommand           []string
	client, team           string
	expiredToken           string
}

func live(t *testing.T) liveEnv {
	t.Helper()
	names := []string{
		"GHARTS_TEST_URL", "GHARTS_TEST_ISSUER", "GHARTS_TEST_SIMULATOR_URL",
		"GHARTS_TEST_TOKEN_COMMAND", "GHARTS_TEST_ADMIN_TOKEN_COMMAND", "GHARTS_TEST_CLIENT",
		"GHARTS_TEST_TEAM", "GHARTS_TEST_EXPIRED_TOKEN",
	}
	values := map[string]string{}
	var missing []string
	for _, name := range names {
		values[name] = os.Getenv(name)
		if values[name] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" || values["GHARTS_TEST_URL"] != "" {
			t.Fatalf("missing %s: %s", strings.Join(missing, ", "), liveHelp)
		}
		t.Skip("no live gharts: " + liveHelp)
	}
	return liveEnv{
		url:          strings.TrimRight(values["GHARTS_TEST_URL"], "/"),
		issuer:       values["GHARTS_TEST_ISSUER"],
		simulator:    strings.TrimRight(values["GHARTS_TEST_SIMULATOR_URL"], "/"),
		tokenCommand: strings.Fields(values["GHARTS_TEST_TOKEN_COMMAND"]),
		adminCommand: strings.Fields(values["GHARTS_TEST_ADMIN_TOKEN_COMMAND"]),
		client:       values["GHARTS_TEST_CLIENT"],
		team:         values["GHARTS_TEST_TEAM"],
		expiredToken: values["GHARTS_TEST_EXPIRED_TOKEN"],
	}
}

func run(t *testing.T, command []string) string {
	t.Helper()
	out, err := exec.Command(command[0], command[1:]...).Output() //nolint:gosec // the test's own command
	if err != nil {
		detail := ""
		if exit, ok := err.(*exec.ExitError); ok {
			detail = string(exit.Stderr)
		}
		t.Fatalf("%s: %v %s", strings.Join(command, " "), err, detail)
	}
	return strings.TrimSpace(string(out))
}

// mint returns a fresh token of the machine client clientID.
func (e liveEnv) mint(t *testing.T, clientID string) string {
	t.Helper()
	return run(t, append(append([]string{}, e.tokenCommand...), clientID))
}

func (e liveEnv) adminToken(t *testing.T) string {
	t.Helper()
	return run(t, e.adminCommand)
}

// newClient returns a client of clientID with the given options applied to its Config.
func (e liveEnv) newClient(t *testing.T, provider TokenProvider, options ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: e.url, OIDCTokenProvider: provider}
	for _, option := range options {
		option(&cfg)
	}
	client, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// send makes a plain JSON request (admin set-up and simulator control) and checks its status.
func send(t *testing.T, method, url, token string, body interface{}, want ...int) map[string]interface{} {
	t.Helper()
	var reader *bytes.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(raw)
	} else {
		reader = bytes.NewReader(nil)
	}
	request, err := http.NewRequest(method, url, reader)
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set("Content-Type", "application/json")
	if token != "" {
		request.Header.Set("Authorization", "Bearer "+token)
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var decoded map[string]interface{}
	_ = json.NewDecoder(response.Body).Decode(&decoded)
	for _, status := range want {
		if response.StatusCode == status {
			return decoded
		}
	}
	t.Fatalf("%s %s: want %v, got %d: %v", method, url, want, response.StatusCode, decoded)
	return decoded
}

// setFaults makes the simulated GitHub fail until clearFaults.
func (e liveEnv) setFaults(t *testing.T, faults map[string]interface{}) {
	t.Helper()
	send(t, http.MethodPut, e.simulator+"/faults", "", faults, http.StatusOK)
	t.Cleanup(func() { e.clearFaults(t) })
}

func (e liveEnv) clearFaults(t *testing.T) {
	t.Helper()
	send(t, http.MethodDelete, e.simulator+"/faults", "", nil, http.StatusOK, http.StatusNoContent)
}

func unique(prefix string) string {
	raw := make([]byte, 4)
	if _, err := rand.Read(raw); err != nil {
		panic(err)
	}
	return prefix + "-" + hex.EncodeToString(raw)
}

// quotaTeam creates a team with room for maxRunners runners and a machine client of it; it
// returns the client's id.
func (e liveEnv) quotaTeam(t *testing.T, maxRunners int) string {
	t.Helper()
	admin := e.adminToken(t)
	team := unique("go-quota")
	send(t, http.MethodPost, e.url+"/api/v1/admin/teams", admin, map[string]interface{}{
		"name":                    team,
		"required_labels":         []string{"go-quota"},
		"optional_label_patterns": []string{"size-.*"},
		"max_runners":             maxRunners,
	}, http.StatusCreated)
	client := unique("go-client")
	send(t, http.MethodPost, e.url+"/api/v1/admin/clients", admin, map[string]interface{}{
		"issuer": e.issuer, "subject": client, "team": team, "description": "go client tests",
	}, http.StatusCreated)
	return client
}

// recorder collects the client's retry events and waits, safely from any goroutine.
type recorder struct {
	mu     sync.Mutex
	events []RetryEvent
	waits  []time.Duration
}

func (r *recorder) onRetry(event RetryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event)
}

func (r *recorder) instantSleep(_ context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
	return nil
}

func (r *recorder) snapshot() ([]RetryEvent, []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RetryEvent{}, r.events...), append([]time.Duration{}, r.waits...)
}

// statuses are the HTTP statuses of the failed attempts the client retried.
func statuses(events []RetryEvent) []string {
	out := make([]string, 0, len(events))
	for _, event := range events {
		if apiErr, ok := AsError(event.Err); ok {
			out = append(out, fmt.Sprintf("%d %s", apiErr.StatusCode, apiErr.ErrorCode))
		} else {
			out = append(out, event.Err.Error())
		}
	}
	return out
}

// sequenceProvider hands out tokens in order, the last one forever; it counts the calls.
type sequenceProvider struct {
	mu        sync.Mutex
	tokens    []string
	gets      int
	refreshes int
}

func (p *sequenceProvider) next() string {
	token := p.tokens[0]
	if len(p.tokens) > 1 {
		p.tokens = p.tokens[1:]
	}
	return token
}

func (p *sequenceProvider) GetToken(context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gets++
	return p.next(), nil
}

func (p *sequenceProvider) RefreshToken(context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refreshes++
	return p.next(), nil
}
