package gharts

import (
	"fmt"
	"strings"
	"time"
)

// JITProvisionRequest is the body of POST /api/v1/runners/jit.
//
// Exactly one of RunnerNamePrefix (gharts adds a random suffix) and RunnerName must be set.
// TeamName may stay empty when the caller belongs to one team only (a machine client always
// does). Labels are checked against the team's policy; the team's required labels are added.
type JITProvisionRequest struct {
	TeamName         string   `json:"team_name,omitempty"`
	RunnerNamePrefix string   `json:"runner_name_prefix,omitempty"`
	RunnerName       string   `json:"runner_name,omitempty"`
	Labels           []string `json:"labels"`
	RunnerGroupID    *int     `json:"runner_group_id,omitempty"`
	WorkFolder       string   `json:"work_folder,omitempty"`
}

// JITProvisionResponse is what gharts answers a provisioning request with. EncodedJITConfig is
// handed out once and never stored by gharts: pass it to the runner and do not log it.
type JITProvisionResponse struct {
	RunnerID         string    `json:"runner_id"`
	RunnerName       string    `json:"runner_name"`
	EncodedJITConfig string    `json:"encoded_jit_config"`
	Labels           []string  `json:"labels"`
	TeamName         string    `json:"team_name"`
	RunnerGroupID    int       `json:"runner_group_id"`
	GitHubRunnerID   *int64    `json:"github_runner_id"`
	ExpiresAt        time.Time `json:"expires_at"`
	RunCommand       string    `json:"run_command"`
}

// String never shows the JIT configuration (it is a credential).
func (r *JITProvisionResponse) String() string {
	return fmt.Sprintf("runner %s (%s) of team %s, labels %s", r.RunnerName, r.RunnerID,
		r.TeamName, strings.Join(r.Labels, ","))
}

// RunnerStatus is one runner as GET /api/v1/runners shows it.
type RunnerStatus struct {
	RunnerID       string     `json:"runner_id"`
	RunnerName     string     `json:"runner_name"`
	TeamID         string     `json:"team_id"`
	TeamName       string     `json:"team_name"`
	Labels         []string   `json:"labels"`
	RunnerGroupID  int        `json:"runner_group_id"`
	Status         string     `json:"status"`
	Method         string     `json:"method"`
	GitHubRunnerID *int64     `json:"github_runner_id"`
	CreatedBy      string     `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	ExpiresAt      *time.Time `json:"expires_at"`
	DeletedAt      *time.Time `json:"deleted_at"`
	DeletedReason  *string    `json:"deleted_reason"`
}

// RunnerFilter narrows ListRunnersMatching; empty fields do not filter.
type RunnerFilter struct {
	Status   string
	TeamName string
	Label    string
}

// runnerList is the body of GET /api/v1/runners.
type runnerList struct {
	Runners []*RunnerStatus `json:"runners"`
	Total   int             `json:"total"`
}

// ErrorResponse is the body of every gharts error.
type ErrorResponse struct {
	Detail     string      `json:"detail"`
	ErrorCode  string      `json:"error_code,omitempty"`
	RetryAfter *float64    `json:"retry_after,omitempty"`
	Violations []Violation `json:"violations,omitempty"`
}

// Violation is one label the team policy refused, with a machine-readable reason.
type Violation struct {
	Label   string `json:"label"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// The error codes gharts answers with that the client and ARC act on.
const (
	CodeInvalidToken          = "INVALID_TOKEN"
	CodeUserNotAuthorized     = "USER_NOT_AUTHORIZED"
	CodeNotTeamMember         = "NOT_TEAM_MEMBER"
	CodeTeamInactive          = "TEAM_INACTIVE"
	CodeLabelPolicyViolation  = "LABEL_POLICY_VIOLATION"
	CodeRunnerGroupNotAllowed = "RUNNER_GROUP_NOT_ALLOWED"
	CodeQuotaExceeded         = "QUOTA_EXCEEDED"
	CodeRateLimited           = "RATE_LIMITED"
	CodeInvalidLabels         = "INVALID_LABELS"
	CodeValidationError       = "VALIDATION_ERROR"
	CodeTeamRequired          = "TEAM_REQUIRED"
	CodeTeamNotFound          = "TEAM_NOT_FOUND"
	CodeRunnerNotFound        = "RUNNER_NOT_FOUND"
	CodeGitHubRateLimited     = "GITHUB_RATE_LIMITED"
	CodeGitHubUnavailable     = "GITHUB_UNAVAILABLE"
	CodeServiceUnavailable    = "SERVICE_UNAVAILABLE"
	CodeInternalError         = "INTERNAL_ERROR"
)
