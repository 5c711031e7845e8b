"""The start-up banner of ``gharts dev``: commands a newcomer can copy and run as they are."""

from __future__ import annotations

import json
import shlex

from gharts_http.cli.dev.app import SIMULATOR_PATH
from gharts_http.cli.dev.data_dir import DEFAULT_DATA_DIR, ISSUER_PATH
from gharts_http.cli.dev.seed import DEMO_CLIENT, DEMO_TEAM, DEV_ADMIN_EMAIL, SeedReport

#: The body of the banner's provisioning ``curl``: a runner allowed by team ``demo``'s policy.
QUICKSTART_BODY = {"runner_name_prefix": "demo", "labels": ["gpu-a100"]}


def token_command(*, data_dir: str, email: str | None = None, client: str | None = None) -> str:
    """Return the ``gharts dev token`` command line for a person or a machine client."""
    words = ["gharts", "dev", "token"]
    words += ["--email", email] if email is not None else ["--client", client or DEMO_CLIENT]
    if data_dir != DEFAULT_DATA_DIR:
        words += ["--data-dir", data_dir]
    return shlex.join(words)


def provision_command(public_url: str, data_dir: str) -> str:
    """Return a ``curl`` that provisions a JIT runner as the demo machine client."""
    url = public_url.rstrip("/") + "/api/v1/runners/jit"
    token = token_command(data_dir=data_dir, client=DEMO_CLIENT)
    return (
        f'curl -s -X POST {url} -H "Authorization: Bearer $({token})" '
        f"-H 'Content-Type: application/json' -d '{json.dumps(QUICKSTART_BODY)}'"
    )


def _seeded(report: SeedReport) -> str:
    if not report.created:
        return "kept the data of the previous run (--reset starts afresh)"
    return "created " + ", ".join(report.created)


def banner(public_url: str, data_dir: str, report: SeedReport) -> str:
    """Return the banner: where things are, how to get a token, a ready provisioning ``curl``."""
    base = public_url.rstrip("/")
    policy = (
        f"requires {', '.join(DEMO_TEAM.required_labels)}; allows "
        f"{', '.join(DEMO_TEAM.optional_label_patterns)}; at most {DEMO_TEAM.max_runners} runners"
    )
    client_token = token_command(data_dir=data_dir, client=DEMO_CLIENT)
    admin_token = token_command(data_dir=data_dir, email=DEV_ADMIN_EMAIL)
    width = max(len(client_token), len(admin_token))
    lines = [
        "",
        f"gharts dev is running at {base}  (Ctrl+C stops it)",
        f"  data:       {data_dir}  (seed: {_seeded(report)})",
        f"  team:       {DEMO_TEAM.name}  ({policy})",
        "",
        "Get a token:",
        f"  {client_token:{width}}  # machine client {DEMO_CLIENT} of team {DEMO_TEAM.name}",
        f"  {admin_token:{width}}  # the admin, also a member of {DEMO_TEAM.name}",
        "",
        "Provision a runner:",
        f"  {provision_command(base, data_dir)}",
        "",
        "List runners:",
        f'  curl -s {base}/api/v1/runners -H "Authorization: Bearer $({client_token})"',
        "",
        f"Dashboard:          {base}/  (log in as {DEV_ADMIN_EMAIL})",
        f"API docs:           {base}/schema",
        (
            f"Simulated GitHub:   {base}{SIMULATOR_PATH}/_simulator/runners"
            "  (POST .../runners/<github_runner_id>/online brings a runner online)"
        ),
        f"Dev token issuer:   {base}{ISSUER_PATH}/.well-known/openid-configuration",
        "",
    ]
    return "\n".join(lines)
