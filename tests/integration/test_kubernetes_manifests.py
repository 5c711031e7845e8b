"""deploy/kubernetes: each overlay renders with ``kubectl kustomize``, validates offline against the
Kubernetes 1.30 schemas (``kubernetes-validate``, strict: no unknown field), and its ConfigMap's
gharts.toml loads with gharts' own settings loader, with the environment the Deployment sets and
the files its volumes mount (recreated under a temporary directory).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import kubernetes_validate
import pytest
import yaml

from gharts_http.settings import Settings, load_settings
from tests.contract.identity.tls_issuer import make_certificates

DEPLOY = Path(__file__).parents[2] / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# Custom resources have no schema in kubernetes-validate; they are checked by hand below.
CUSTOM_RESOURCES = {("monitoring.coreos.com/v1", "ServiceMonitor")}
RENDER_TIMEOUT = 60.0


def kubectl() -> str:
    """The ``kubectl`` command; missing kubectl fails under CI and skips elsewhere."""
    found = shutil.which("kubectl")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is not installed (the CI image carries it)")
        pytest.skip("kubectl is not installed")
    return found


def render(directory: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize DIRECTORY`` as a list of objects."""
    done = subprocess.run(  # noqa: S603 - kubectl on our own manifests
        [kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=RENDER_TIMEOUT,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@attrs.frozen
class Rendered:
    """One overlay's objects, by (kind, name)."""

    objects: dict[tuple[str, str], dict[str, Any]]

    @classmethod
    def of(cls, directory: Path) -> Rendered:
        """Render ``directory``."""
        return cls({(o["kind"], o["metadata"]["name"]): o for o in render(directory)})

    def one(self, kind: str, name: str) -> dict[str, Any]:
        """The object of ``kind`` whose name is (or, for generated names, starts with) ``name``."""
        [found] = [o for (k, n), o in self.objects.items() if k == kind and n.startswith(name)]
        return found

    def container(self, deployment: str) -> dict[str, Any]:
        """The gharts container of a Deployment."""
        spec = self.one("Deployment", deployment)["spec"]["template"]["spec"]
        [container] = [c for c in spec["containers"] if c["name"] == "gharts"]
        return dict(container)


@pytest.fixture(scope="module")
def single_sqlite() -> Rendered:
    return Rendered.of(DEPLOY / "overlays" / "single-sqlite")


@pytest.fixture(scope="module")
def postgres_ha() -> Rendered:
    return Rendered.of(DEPLOY / "overlays" / "postgres-ha")


@pytest.fixture(scope="module")
def with_service_monitor(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """postgres-ha with the optional ServiceMonitor component, as an operator would add it."""
    overlay = tmp_path_factory.mktemp("overlay")
    # kustomize wants relative paths to other kustomizations.
    base, component = (
        os.path.relpath(DEPLOY / path, overlay)
        for path in ("overlays/postgres-ha", "components/servicemonitor")
    )
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        f"resources:\n  - {base}\n"
        f"components:\n  - {component}\n",
        encoding="utf-8",
    )
    return Rendered.of(overlay)


def schema_errors(objects: Iterator[dict[str, Any]]) -> list[str]:
    """What the Kubernetes schemas refuse of ``objects`` (custom resources left out)."""
    errors = []
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_RESOURCES:
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {error.message}")
    return errors


@pytest.mark.parametrize("overlay", ["single_sqlite", "postgres_ha", "with_service_monitor"])
def test_every_rendered_object_validates_against_the_kubernetes_schemas(
    overlay: str, request: pytest.FixtureRequest
) -> None:
    """Strict validation: a misspelt or misplaced field fails, as ``kubectl apply`` would."""
    rendered: Rendered = request.getfixturevalue(overlay)

    assert [] == schema_errors(iter(rendered.objects.values()))


def test_the_single_sqlite_overlay_is_one_pod_with_its_worker_and_a_volume(
    single_sqlite: Rendered,
) -> None:
    """No worker Deployment and no autoscaler: SQLite has one writer."""
    api = single_sqlite.one("Deployment", "gharts-api")
    spec = api["spec"]["template"]["spec"]
    kinds = sorted({kind for kind, _ in single_sqlite.objects})

    assert (1, "Recreate") == (api["spec"]["replicas"], api["spec"]["strategy"]["type"])
    assert ["serve", "--with-worker"] == single_sqlite.container("gharts-api")["args"]
    assert [["db", "upgrade"]] == [c["args"] for c in spec["initContainers"]]
    assert {"claimName": "gharts-data"} in [v.get("persistentVolumeClaim") for v in spec["volumes"]]
    assert ("Deployment", "gharts-worker") not in single_sqlite.objects
    assert "HorizontalPodAutoscaler" not in kinds
    assert {"PersistentVolumeClaim", "PodDisruptionBudget", "NetworkPolicy"} <= set(kinds)


def test_the_postgres_ha_overlay_runs_several_replicas_and_two_workers(
    postgres_ha: Rendered,
) -> None:
    """The password is a Secret reference, never a value in the manifests."""
    hpa = postgres_ha.one("HorizontalPodAutoscaler", "gharts-api")["spec"]
    env = {e["name"]: e for e in postgres_ha.container("gharts-api")["env"]}

    assert 3 == postgres_ha.one("Deployment", "gharts-api")["spec"]["replicas"]
    assert 2 == postgres_ha.one("Deployment", "gharts-worker")["spec"]["replicas"]
    assert (3, 10) == (hpa["minReplicas"], hpa["maxReplicas"])
    assert {"name": "gharts-postgres", "key": "password"} == (
        env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]
    )
    assert ["db", "upgrade"] == postgres_ha.one("Job", "gharts-migrate")["spec"]["template"][
        "spec"
    ]["containers"][0]["args"]


@pytest.mark.parametrize("overlay", ["single_sqlite", "postgres_ha"])
def test_the_api_is_probed_on_healthz_and_readyz_and_runs_read_only(
    overlay: str, request: pytest.FixtureRequest
) -> None:
    """Liveness on /healthz, readiness on /readyz, a non-root read-only container."""
    rendered: Rendered = request.getfixturevalue(overlay)
    container = rendered.container("gharts-api")
    pod = rendered.one("Deployment", "gharts-api")["spec"]["template"]["spec"]

    assert "/healthz" == container["livenessProbe"]["httpGet"]["path"]
    assert "/readyz" == container["readinessProbe"]["httpGet"]["path"]
    assert True is container["securityContext"]["readOnlyRootFilesystem"]
    assert (True, 10001) == (
        pod["securityContext"]["runAsNonRoot"],
        pod["securityContext"]["runAsUser"],
    )
    secrets = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    assert {"gharts-github-app", "gharts-github-webhook"} == secrets


def test_the_service_monitor_component_scrapes_metrics(with_service_monitor: Rendered) -> None:
    """The custom resource has no bundled schema: its shape is checked here."""
    monitor = with_service_monitor.one("ServiceMonitor", "gharts")
    service = with_service_monitor.one("Service", "gharts")

    assert [{"port": "http", "path": "/metrics", "interval": "30s"}] == monitor["spec"]["endpoints"]
    assert "http" in [port["name"] for port in service["spec"]["ports"]]
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()


_PATH_KEY = re.compile(r'^(\s*[a-z_]+_path\s*=\s*)"([^"]+)"', re.MULTILINE)


def mounted_paths(rendered: Rendered, deployment: str) -> list[str]:
    """Where the container sees files: its volume mounts, and the service-account token."""
    container = rendered.container(deployment)
    pod = rendered.one("Deployment", deployment)["spec"]["template"]["spec"]
    mounts = [mount["mountPath"] for mount in container["volumeMounts"]]
    if pod.get("automountServiceAccountToken"):
        mounts.append(SERVICE_ACCOUNT_DIR)
    return mounts


def recreate_files(toml: str, mounts: list[str], root: Path) -> str:
    """Create every ``*_path`` file of ``toml`` under ``root``; return the TOML pointing there.

    Each path must lie in a mounted directory, or the pod would not find it.
    """
    certificates = make_certificates(root / "pki")

    def relocate(match: re.Match[str]) -> str:
        path = match[2]
        assert any(path.startswith(mount.rstrip("/") + "/") for mount in mounts), path
        local = root / path.lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        if path.endswith("ca.crt"):
            shutil.copyfile(certificates.ca_path, local)
        else:
            local.write_text("file content\n", encoding="utf-8")
        return f'{match[1]}"{local}"'

    return _PATH_KEY.sub(relocate, toml)


def load_as_deployed(rendered: Rendered, deployment: str, root: Path) -> Settings:
    """The ConfigMap's gharts.toml through ``load_settings``, with the container's plain env."""
    toml = rendered.one("ConfigMap", "gharts-config")["data"]["gharts.toml"]
    config = root / "gharts.toml"
    config.write_text(recreate_files(toml, mounted_paths(rendered, deployment), root), "utf-8")
    environ = {e["name"]: e["value"] for e in rendered.container(deployment)["env"] if "value" in e}
    assert "/etc/gharts/gharts.toml" == environ.pop("GHARTS_CONFIG")
    return load_settings(config, environ)


@pytest.mark.parametrize(
    ("overlay", "deployment", "database"),
    [
        ("single_sqlite", "gharts-api", "sqlite+aiosqlite:////var/lib/gharts/gharts.db"),
        (
            "postgres_ha",
            "gharts-api",
            "postgresql+asyncpg://gharts@postgres.gharts.svc:5432/gharts",
        ),
        (
            "postgres_ha",
            "gharts-worker",
            "postgresql+asyncpg://gharts@postgres.gharts.svc:5432/gharts",
        ),
    ],
)
def test_the_config_map_loads_with_the_settings_loader(
    overlay: str, deployment: str, database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The GitHub App, the cluster issuer with its CA and reader token, and the database."""
    rendered: Rendered = request.getfixturevalue(overlay)

    settings = load_as_deployed(rendered, deployment, tmp_path)

    cluster = settings.auth.issuers[0]
    assert database == settings.database.url
    assert ("app", 8000) == (settings.github.mode.value, settings.server.port)
    assert settings.github.private_key is not None
    assert ("machine", ("gharts",)) == (cluster.kind.value, cluster.audiences)
    assert cluster.ca_bundle_path is not None
    assert cluster.ca_bundle_path.endswith(SERVICE_ACCOUNT_DIR + "/ca.crt")
    assert cluster.jwks_bearer_token_path is not None
    assert cluster.jwks_bearer_token_path.endswith(SERVICE_ACCOUNT_DIR + "/token")
