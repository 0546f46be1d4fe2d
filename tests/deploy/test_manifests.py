"""The rendered Kubernetes manifests and the Dockerfile keep their promises.

Every kustomization under `k8s-jobs/` is rendered with `kubectl kustomize` (the binary from
the dev extra; the module is skipped only when no kubectl exists) and every pod template in
it, of a CronJob or a Job, is checked: "restricted" pod security, restartPolicy Never, the
exit-code policy, probes on the probe port, sharding under one run id. The checks are
functions that return a list of problems, so the tests at the end can show that each one
does reject a broken spec. The models shipped as code (ConfigMap ordergen-models) are read
with ordergen's own model reader, policy included, and must be the ones the import Job
imports.
"""

import copy
import re
import shutil
import subprocess
import zoneinfo
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from ordergen.domain.model import InvestmentModel
from ordergen.domain.policy import Trigger
from ordergen.errors import InputError
from ordergen.io.files import read_model

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s-jobs"
DOCKERFILE = ROOT / "Dockerfile"

Obj = dict[str, Any]

SECRETS_DIR = "/var/run/secrets/ordergen"
SECRET_NAME = "ordergen-database"
SETTINGS_NAME = "ordergen-settings"
MODELS_NAME = "ordergen-models"
JOB_NAME_FIELD = "metadata.labels['batch.kubernetes.io/job-name']"
INDEX_FIELD = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
NON_RETRYABLE_EVERYWHERE = 2  # bad input or configuration: fails the Job at once
RETRYABLE = (1, 4, 6)  # a transient bug, MongoDB unreachable, another run of the model live
DETERMINISTIC = (3, 5)  # infeasible/error portfolios, model version conflict
# Volume types the "restricted" Pod Security Standard allows.
RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def _kubectl() -> str | None:
    found = shutil.which("kubectl")
    if found:
        return found
    local = ROOT / ".venv" / "bin" / "kubectl"
    return str(local) if local.exists() else None


KUBECTL = _kubectl()
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


def _kustomizations() -> list[str]:
    """Every Kustomization (not Component) under k8s-jobs/, relative to it."""
    found = []
    for path in sorted(K8S.rglob("kustomization.yaml")):
        doc = yaml.safe_load(path.read_text())
        if doc.get("kind", "Kustomization") == "Kustomization":
            found.append(str(path.parent.relative_to(K8S)))
    return found


KUSTOMIZATIONS = _kustomizations()
OVERLAYS = [k for k in KUSTOMIZATIONS if k.startswith("overlays/")]
ENVIRONMENTS = sorted({k.split("/")[1] for k in OVERLAYS})


@cache
def render(kustomization: str) -> tuple[Obj, ...]:
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "kustomize", str(K8S / kustomization)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def workloads(objects: tuple[Obj, ...]) -> Iterator[tuple[Obj, Obj, Obj]]:
    """(object, Job spec, pod template) of every CronJob and Job."""
    for obj in objects:
        if obj["kind"] == "CronJob":
            job_spec = obj["spec"]["jobTemplate"]["spec"]
            yield obj, job_spec, job_spec["template"]
        elif obj["kind"] == "Job":
            yield obj, obj["spec"], obj["spec"]["template"]


def all_workloads() -> list[tuple[str, Obj, Obj, Obj]]:
    return [(k, *w) for k in KUSTOMIZATIONS for w in workloads(render(k))]


def workload_id(item: tuple[str, Obj, Obj, Obj]) -> str:
    return f"{item[0]}:{item[1]['kind']}/{item[1]['metadata']['name']}"


WORKLOADS = all_workloads() if KUBECTL else []
WORKLOAD_IDS = [workload_id(w) for w in WORKLOADS]


def config_map(objects: tuple[Obj, ...], name: str) -> Obj:
    (found,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == name]
    return found


def read_model_file(directory: Path, file_name: str, text: str) -> InvestmentModel:
    """The model a ConfigMap entry holds, read as `ordergen models import` reads the file."""
    path = directory / file_name
    path.write_text(text)
    return read_model(path)


def containers(pod_spec: Obj) -> list[Obj]:
    return [*pod_spec.get("initContainers", []), *pod_spec.get("containers", [])]


def is_rebalance(container: Obj) -> bool:
    return bool(container.get("args")) and container["args"][0] == "rebalance"


def option(args: list[str], name: str) -> str | None:
    """The value after `name` in args (`--name value` or `--name=value`), or None."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def quantity(text: str | int) -> float:
    """A Kubernetes quantity (`500m`, `2`, `768Mi`, `1Gi`) as a number of base units."""
    units = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20}
    units |= {"Gi": 2**30}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(text))
    assert match and match.group(2) in units, f"unknown quantity {text!r}"
    return float(match.group(1)) * units[match.group(2)]


# -- the checks ----------------------------------------------------------------------------


def pod_security_problems(pod_spec: Obj) -> list[str]:
    """Why this pod spec falls short of "restricted" and our own rules (empty: it doesn't)."""
    problems = []
    if pod_spec.get("restartPolicy") != "Never":
        problems.append("restartPolicy is not Never")
    if pod_spec.get("serviceAccountName") != "ordergen":
        problems.append("serviceAccountName is not ordergen")
    if pod_spec.get("automountServiceAccountToken") is not False:
        problems.append("the ServiceAccount token is mounted")
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(key):
            problems.append(f"{key} is set")
    pod_sc = pod_spec.get("securityContext", {})
    if pod_sc.get("runAsNonRoot") is not True:
        problems.append("pod runAsNonRoot is not true")
    for key in ("runAsUser", "runAsGroup"):
        value = pod_sc.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            problems.append(f"pod {key} is not a numeric non-root id: {value!r}")
    if pod_sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append("pod seccompProfile is not RuntimeDefault")
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    for volume in volumes.values():
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            problems.append(f"volume {volume['name']} is of a type restricted forbids: {kinds}")
    for c in containers(pod_spec):
        name = c["name"]
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: readOnlyRootFilesystem is not true")
        if sc.get("privileged"):
            problems.append(f"{name}: privileged")
        caps = sc.get("capabilities", {})
        if caps.get("drop") != ["ALL"] or caps.get("add"):
            problems.append(f"{name}: capabilities are not drop [ALL] with nothing added")
        if sc.get("runAsUser") == 0 or sc.get("runAsNonRoot") is False:
            problems.append(f"{name}: runs as root")
        mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
        tmp = mounts.get("/tmp")
        if tmp is None or "emptyDir" not in volumes.get(tmp["name"], {}):
            problems.append(f"{name}: /tmp is not an emptyDir")
        resources = c.get("resources", {})
        for kind in ("cpu", "memory"):
            request = resources.get("requests", {}).get(kind)
            limit = resources.get("limits", {}).get(kind)
            if request is None or limit is None:
                problems.append(f"{name}: no {kind} request and limit")
            elif quantity(request) > quantity(limit):
                problems.append(f"{name}: {kind} request above its limit")
    return problems


def secret_problems(pod_spec: Obj) -> list[str]:
    """DATABASE_URL must come from the Secret as a file, never as an env var."""
    problems = []
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    for c in containers(pod_spec):
        for env in c.get("env", []):
            if env["name"] == "DATABASE_URL":
                problems.append(f"{c['name']}: DATABASE_URL is an env var")
        mounts = [m for m in c.get("volumeMounts", []) if m["mountPath"] == SECRETS_DIR]
        secret = volumes.get(mounts[0]["name"], {}).get("secret", {}) if mounts else {}
        if secret.get("secretName") != SECRET_NAME or not mounts[0].get("readOnly"):
            problems.append(f"{c['name']}: {SECRET_NAME} is not mounted read-only at {SECRETS_DIR}")
        elif "items" in secret and "database_url" not in {i["path"] for i in secret["items"]}:
            problems.append(f"{c['name']}: the secret volume has no database_url file")
    return problems


def _rules(job_spec: Obj, action: str) -> list[Obj]:
    return [
        r for r in job_spec.get("podFailurePolicy", {}).get("rules", []) if r["action"] == action
    ]


def _codes(rules: list[Obj], container: str) -> set[int]:
    codes: set[int] = set()
    for rule in rules:
        on = rule.get("onExitCodes")
        if on and on["operator"] == "In" and on.get("containerName", container) == container:
            codes |= set(on["values"])
    return codes


def failure_policy_problems(job_spec: Obj, container: str, rebalance: bool = True) -> list[str]:
    """Exit 2 fails the Job at once; 3 and 5 (rebalance only) are not retried; 1 and 4 are;
    evictions do not count."""
    problems = []
    fail_job = _codes(_rules(job_spec, "FailJob"), container)
    fail_index = _codes(_rules(job_spec, "FailIndex"), container)
    if NON_RETRYABLE_EVERYWHERE not in fail_job:
        problems.append("exit code 2 does not fail the Job at once (FailJob)")
    for code in DETERMINISTIC if rebalance else ():
        if code not in fail_job | fail_index:
            problems.append(f"exit code {code} would be retried")
    for code in RETRYABLE:
        if code in fail_job | fail_index:
            problems.append(f"exit code {code} is not retried")
    if fail_index and job_spec.get("backoffLimitPerIndex") is None:
        problems.append("FailIndex without backoffLimitPerIndex")
    if any("onExitCodes" in r for r in _rules(job_spec, "Ignore")):
        problems.append("an exit code is ignored: the pod would be restarted without limit")
    disruption = [
        p
        for r in _rules(job_spec, "Ignore")
        for p in r.get("onPodConditions", [])
        if p["type"] == "DisruptionTarget"
    ]
    if not disruption:
        problems.append("pod disruptions (eviction, preemption) count as failures")
    return problems


def job_limit_problems(job_spec: Obj) -> list[str]:
    problems = []
    if job_spec.get("backoffLimit") is None and job_spec.get("backoffLimitPerIndex") is None:
        problems.append("no backoffLimit or backoffLimitPerIndex")
    for key in ("activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        if not isinstance(job_spec.get(key), int) or job_spec[key] <= 0:
            problems.append(f"no positive {key}")
    return problems


def cronjob_problems(cronjob: Obj) -> list[str]:
    spec = cronjob["spec"]
    problems = []
    if len(cronjob["metadata"]["name"]) > 52:
        problems.append("name longer than 52 characters")
    if spec.get("concurrencyPolicy") != "Forbid":
        problems.append("concurrencyPolicy is not Forbid")
    if len(str(spec.get("schedule", "")).split()) != 5:
        problems.append(f"schedule {spec.get('schedule')!r} is not a 5-field cron line")
    try:
        zoneinfo.ZoneInfo(spec.get("timeZone", ""))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(f"timeZone {spec.get('timeZone')!r} is not an IANA time zone")
    for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        if not isinstance(spec.get(key), int) or spec[key] <= 0:
            problems.append(f"no positive {key}")
    return problems


def probe_problems(template: Obj) -> list[str]:
    """A rebalance container serves probes and metrics on its --probe-port."""
    problems = []
    annotations = template.get("metadata", {}).get("annotations", {})
    for c in template["spec"]["containers"]:
        if not is_rebalance(c):
            continue
        port_text = option(c["args"], "--probe-port")
        if port_text is None or not port_text.isdigit():
            problems.append(f"{c['name']}: no --probe-port")
            continue
        port = int(port_text)
        names = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        if port not in names.values():
            problems.append(f"{c['name']}: port {port} is not a containerPort")
        for kind, path in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
            get = c.get(kind, {}).get("httpGet", {})
            target = get.get("port")
            resolved = names.get(target) if isinstance(target, str) else target
            if get.get("path") != path or resolved != port:
                problems.append(f"{c['name']}: {kind} is not GET {path} on port {port}")
        if "startupProbe" in c:
            get = c["startupProbe"].get("httpGet", {})
            target = get.get("port")
            if (names.get(target) if isinstance(target, str) else target) != port:
                problems.append(f"{c['name']}: startupProbe is not on port {port}")
        expected = {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(port),
            "prometheus.io/path": "/metrics",
        }
        for key, value in expected.items():
            if annotations.get(key) != value:
                problems.append(f"annotation {key} is not {value!r}")
    return problems


def run_id_problems(job_spec: Obj, template: Obj) -> list[str]:
    """Every rebalance pod takes its run id from the Job name; shards say I/N with N right."""
    problems = []
    indexed = job_spec.get("completionMode") == "Indexed"
    for c in template["spec"]["containers"]:
        if not is_rebalance(c):
            continue
        env = {e["name"]: e for e in c.get("env", [])}
        field = env.get("JOB_NAME", {}).get("valueFrom", {}).get("fieldRef", {})
        if field.get("fieldPath") != JOB_NAME_FIELD:
            problems.append(f"{c['name']}: JOB_NAME is not the pod's job-name label")
        if option(c["args"], "--run-id") is not None:
            problems.append(f"{c['name']}: --run-id overrides the Job name")
        for flag in ("--model", "--source", "--sink"):
            if not option(c["args"], flag):
                problems.append(f"{c['name']}: no {flag}")
        shard = option(c["args"], "--shard")
        if not indexed:
            if shard is not None:
                problems.append(f"{c['name']}: --shard outside an Indexed Job")
            continue
        completions = job_spec.get("completions")
        if shard != f"$(JOB_COMPLETION_INDEX)/{completions}":
            problems.append(f"{c['name']}: --shard {shard!r} is not $(JOB_COMPLETION_INDEX)/N")
        index = env.get("JOB_COMPLETION_INDEX", {}).get("valueFrom", {}).get("fieldRef", {})
        if index.get("fieldPath") != INDEX_FIELD:
            problems.append(f"{c['name']}: JOB_COMPLETION_INDEX is not declared for $(...)")
        if not 1 <= job_spec.get("parallelism", 1) <= (completions or 0):
            problems.append("parallelism is not within 1..completions")
    return problems


# -- rendered manifests --------------------------------------------------------------------


def test_every_environment_has_both_kustomizations() -> None:
    assert ENVIRONMENTS, "no overlays under k8s-jobs/overlays"
    for env in ENVIRONMENTS:
        assert f"overlays/{env}" in KUSTOMIZATIONS
        assert f"overlays/{env}/jobs" in KUSTOMIZATIONS
    assert {"dev", "prod"} <= set(ENVIRONMENTS)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_overlay_contents(env: str) -> None:
    long_lived = render(f"overlays/{env}")
    kinds = [o["kind"] for o in long_lived]
    assert "CronJob" in kinds
    assert "Job" not in kinds, "one-off Jobs belong in overlays/<env>/jobs (created, not applied)"
    assert "Secret" not in kinds, "no Secret may be committed into a kustomization"
    jobs = [o for o in render(f"overlays/{env}/jobs") if o["kind"] == "Job"]
    args = [c.get("args", []) for j in jobs for c in j["spec"]["template"]["spec"]["containers"]]
    assert ["db", "init"] in args
    assert any(a[:2] == ["models", "import"] for a in args)
    assert any(j["spec"].get("completionMode") == "Indexed" for j in jobs)
    assert any(a[:1] == ["rebalance"] and "--shard" not in a for a in args)  # the ad-hoc run
    assert "Secret" not in {o["kind"] for o in render(f"overlays/{env}/jobs")}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_overlay_namespace_and_settings(env: str) -> None:
    objects = render(f"overlays/{env}")
    (namespace,) = [o for o in objects if o["kind"] == "Namespace"]
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    name = namespace["metadata"]["name"]
    for obj in (*objects, *render(f"overlays/{env}/jobs")):
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == name, obj["metadata"]["name"]
    data = config_map(objects, SETTINGS_NAME)["data"]
    assert data["LOG_FORMAT"] == "json"
    assert data["ORDERGEN_SECRETS_DIR"] == SECRETS_DIR
    assert "DATABASE_URL" not in data
    # Worker processes never exceed the CPUs a rebalance pod may use.
    jobs = int(data["JOBS"])
    for _obj, _job, template in workloads(objects):
        for c in template["spec"]["containers"]:
            if is_rebalance(c):
                assert 1 <= jobs <= quantity(c["resources"]["limits"]["cpu"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_overlay_images_are_pinned(env: str) -> None:
    for kustomization in (f"overlays/{env}", f"overlays/{env}/jobs"):
        for _obj, _job, template in workloads(render(kustomization)):
            for c in containers(template["spec"]):
                image = c["image"]
                assert "/" in image, f"{image}: the placeholder image was not replaced"
                assert "@sha256:" in image or re.search(r":[\w.-]+$", image.split("/")[-1])
                assert not image.endswith(":latest")


def test_environments_differ() -> None:
    def signature(env: str) -> tuple[str, ...]:
        objects = render(f"overlays/{env}")
        images = sorted(
            c["image"] for _o, _j, t in workloads(objects) for c in t["spec"]["containers"]
        )
        (ns,) = [o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"]
        return (ns, *images)

    assert signature("dev") != signature("prod")
    assert signature("dev")[0] != signature("prod")[0], "dev and prod share a namespace"


def test_workloads_found() -> None:
    assert len(WORKLOADS) >= 12  # 2 CronJobs + 4 Jobs, in the bases and in each overlay


@pytest.mark.parametrize("item", WORKLOADS, ids=WORKLOAD_IDS)
def test_pod_security(item: tuple[str, Obj, Obj, Obj]) -> None:
    _kustomization, _obj, _job_spec, template = item
    assert pod_security_problems(template["spec"]) == []
    assert secret_problems(template["spec"]) == []


@pytest.mark.parametrize("item", WORKLOADS, ids=WORKLOAD_IDS)
def test_job_policy(item: tuple[str, Obj, Obj, Obj]) -> None:
    _kustomization, obj, job_spec, template = item
    (main,) = template["spec"]["containers"]
    assert failure_policy_problems(job_spec, main["name"], is_rebalance(main)) == []
    assert job_limit_problems(job_spec) == []
    if obj["kind"] == "CronJob":
        assert cronjob_problems(obj) == []


@pytest.mark.parametrize("item", WORKLOADS, ids=WORKLOAD_IDS)
def test_probes_and_run_id(item: tuple[str, Obj, Obj, Obj]) -> None:
    _kustomization, _obj, job_spec, template = item
    assert probe_problems(template) == []
    assert run_id_problems(job_spec, template) == []


def test_indexed_workloads_exist_as_cronjob_and_job() -> None:
    indexed = {o["kind"] for _k, o, j, _t in WORKLOADS if j.get("completionMode") == "Indexed"}
    assert indexed == {"CronJob", "Job"}


def test_secret_example_is_only_an_example() -> None:
    example = yaml.safe_load((K8S / "base" / "secret.example.yaml").read_text())
    assert example["kind"] == "Secret"
    assert example["metadata"]["name"] == SECRET_NAME
    assert "CHANGE-ME" in example["stringData"]["database_url"]
    for kustomization in KUSTOMIZATIONS:
        assert "Secret" not in {o["kind"] for o in render(kustomization)}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_example_models_read_with_a_desk_policy(env: str, tmp_path: Path) -> None:
    """Every shipped model file is a valid model whose policy uses the desk-style fields."""
    files = config_map(render(f"overlays/{env}"), MODELS_NAME)["data"]
    assert files, f"{MODELS_NAME} holds no model"
    for file_name, text in files.items():
        model = read_model_file(tmp_path, file_name, text)
        policy = model.policy
        assert policy.trigger is Trigger.OUTSIDE_BANDS, file_name
        assert 0 < policy.inner_band < 1
        assert policy.min_trade.amount > 0
        assert policy.cash_reserve.fraction > 0
        assert policy.trade_cost.per_order > 0
        assert policy.restrictions
        assert {sid for sid, _ in policy.restrictions} <= set(model.security_ids)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_models_import_job_imports_every_scheduled_example(env: str, tmp_path: Path) -> None:
    """The import Job mounts ordergen-models and imports each of its files; each model
    imported is one a CronJob rebalances."""
    files = config_map(render(f"overlays/{env}"), MODELS_NAME)["data"]
    (job,) = [
        o
        for o in render(f"overlays/{env}/jobs")
        if o["kind"] == "Job"
        and o["spec"]["template"]["spec"]["containers"][0]["args"][:2] == ["models", "import"]
    ]
    pod = job["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v.get("configMap", {}).get("name") == MODELS_NAME]
    (container,) = pod["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert mount.get("readOnly") is True
    assert sorted(container["args"][2:]) == sorted(f"{mount['mountPath']}/{f}" for f in files)
    scheduled = {
        option(c["args"], "--model")
        for obj, _job, template in workloads(render(f"overlays/{env}"))
        if obj["kind"] == "CronJob"
        for c in template["spec"]["containers"]
    }
    for file_name, text in files.items():
        assert read_model_file(tmp_path, file_name, text).name in scheduled


# -- the checks reject what they should ----------------------------------------------------


def _first(kind: str, indexed: bool) -> tuple[Obj, Obj, Obj]:
    for _k, obj, job_spec, template in WORKLOADS:
        if obj["kind"] == kind and (job_spec.get("completionMode") == "Indexed") == indexed:
            return copy.deepcopy(obj), job_spec, template
    raise AssertionError(f"no {kind} (indexed={indexed}) rendered")


def _pod_of(obj: Obj) -> Obj:
    if obj["kind"] == "CronJob":
        spec: Obj = obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        return spec
    job_pod: Obj = obj["spec"]["template"]["spec"]
    return job_pod


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("securityContext", "runAsNonRoot"), False, "runAsNonRoot"),
        (("securityContext", "runAsUser"), 0, "runAsUser"),
        (("securityContext", "runAsGroup"), "10001", "runAsGroup"),
        (("securityContext", "seccompProfile"), {"type": "Unconfined"}, "seccomp"),
        (("automountServiceAccountToken",), True, "token"),
        (("restartPolicy",), "OnFailure", "restartPolicy"),
        (("containers", 0, "securityContext", "readOnlyRootFilesystem"), False, "readOnly"),
        (("containers", 0, "securityContext", "allowPrivilegeEscalation"), True, "Escalation"),
        (("containers", 0, "securityContext", "capabilities"), {"drop": ["NET_RAW"]}, "ALL"),
        (("containers", 0, "resources", "limits"), {"cpu": "2"}, "memory"),
        (("containers", 0, "volumeMounts"), [], "/tmp"),
        (("volumes", 0), {"name": "tmp", "hostPath": {"path": "/tmp"}}, "type"),
    ],
)
def test_pod_security_check_rejects(path: tuple[str | int, ...], value: Any, expected: str) -> None:
    obj, _job, _template = _first("CronJob", indexed=False)
    node: Any = _pod_of(obj)
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    problems = pod_security_problems(_pod_of(obj))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("innerBand", "1.5"),
        ("trigger", "sometimes"),
        ("minTrade", {"amount": "-500"}),
        ("restrictions", {"not-a-security-id": "no-buy"}),
        ("cashReserve", {"fraction": "1"}),
        ("tradeCosts", {"perOrder": "5"}),
    ],
)
def test_model_reader_rejects_a_bad_policy(field: str, value: Any, tmp_path: Path) -> None:
    """The shipped model with one policy field broken is refused, naming the field."""
    files = config_map(render("base"), MODELS_NAME)["data"]
    file_name, text = next(iter(files.items()))
    document = yaml.safe_load(text)
    document["policy"][field] = value
    with pytest.raises(InputError, match=rf"policy\.{field}"):
        read_model_file(tmp_path, file_name, yaml.safe_dump(document))


def test_secret_check_rejects_an_env_var() -> None:
    obj, _job, _template = _first("Job", indexed=False)
    pod = _pod_of(obj)
    pod["containers"][0]["env"].append({"name": "DATABASE_URL", "value": "mongodb://x"})
    assert secret_problems(pod) == [f"{pod['containers'][0]['name']}: DATABASE_URL is an env var"]
    pod["volumes"] = [v for v in pod["volumes"] if "secret" not in v]
    assert len(secret_problems(pod)) == 2


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([3, 5], "exit code 2 does not fail"),
        ([2, 5], "exit code 3 would be retried"),
        ([2, 3, 4, 5], "exit code 4 is not retried"),
    ],
)
def test_failure_policy_check_rejects(codes: list[int], expected: str) -> None:
    obj, _job, template = _first("CronJob", indexed=False)
    job_spec = obj["spec"]["jobTemplate"]["spec"]
    (rule,) = _rules(job_spec, "FailJob")
    rule["onExitCodes"]["values"] = codes
    problems = failure_policy_problems(job_spec, template["spec"]["containers"][0]["name"])
    assert expected in " ".join(problems), problems


def test_failure_policy_check_rejects_ignoring_an_exit_code() -> None:
    obj, _job, template = _first("Job", indexed=True)
    spec = obj["spec"]
    spec["podFailurePolicy"]["rules"].append(
        {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [4]}}
    )
    del spec["backoffLimitPerIndex"]
    problems = failure_policy_problems(spec, template["spec"]["containers"][0]["name"])
    assert "FailIndex without backoffLimitPerIndex" in problems
    assert any("ignored" in p for p in problems)


def test_cronjob_check_rejects() -> None:
    obj, _job, _template = _first("CronJob", indexed=False)
    obj["spec"].update(concurrencyPolicy="Allow", timeZone="Mars/Olympus", schedule="@daily")
    del obj["spec"]["startingDeadlineSeconds"]
    problems = " ".join(cronjob_problems(obj))
    for expected in ("Forbid", "timeZone", "schedule", "startingDeadlineSeconds"):
        assert expected in problems
    del obj["spec"]["jobTemplate"]["spec"]["ttlSecondsAfterFinished"]
    assert job_limit_problems(obj["spec"]["jobTemplate"]["spec"]) == [
        "no positive ttlSecondsAfterFinished"
    ]


def test_probe_check_rejects_a_wrong_port() -> None:
    obj, _job, _template = _first("CronJob", indexed=False)
    template = obj["spec"]["jobTemplate"]["spec"]["template"]
    template["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = 8080
    template["metadata"]["annotations"]["prometheus.io/port"] = "8080"
    problems = probe_problems(template)
    assert any("readinessProbe" in p for p in problems)
    assert any("prometheus.io/port" in p for p in problems)


def test_shard_check_rejects_a_wrong_count() -> None:
    obj, _job, _template = _first("Job", indexed=True)
    spec = obj["spec"]
    assert run_id_problems(spec, spec["template"]) == []
    spec["completions"] += 1
    problems = run_id_problems(spec, spec["template"])
    assert any("--shard" in p for p in problems), problems
    args = spec["template"]["spec"]["containers"][0]["args"]
    args += ["--run-id", "$(JOB_COMPLETION_INDEX)"]
    assert any("--run-id" in p for p in run_id_problems(spec, spec["template"]))


# -- the Dockerfile ------------------------------------------------------------------------


def dockerfile_stages(text: str) -> list[list[tuple[str, str]]]:
    """Instructions (KEYWORD, arguments) of each stage, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    stages: list[list[tuple[str, str]]] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword.upper(), rest.strip()))
    return stages


def final_user_problems(text: str) -> list[str]:
    stages = dockerfile_stages(text)
    if len(stages) < 2:
        return ["not a multi-stage build"]
    users = [rest for keyword, rest in stages[-1] if keyword == "USER"]
    if not users:
        return ["the final stage has no USER"]
    uid, _, gid = users[-1].partition(":")
    if not uid.isdigit() or int(uid) == 0 or (gid and (not gid.isdigit() or int(gid) == 0)):
        return [f"the final USER {users[-1]!r} is not a numeric non-root user"]
    return []


def test_dockerfile_final_stage() -> None:
    text = DOCKERFILE.read_text()
    assert final_user_problems(text) == []
    final = dockerfile_stages(text)[-1]
    assert ("ENTRYPOINT", '["ordergen"]') in final
    copies = [rest for keyword, rest in final if keyword == "COPY"]
    assert copies and all(c.startswith("--from=") and "/opt/venv" in c for c in copies)
    assert not any(keyword == "RUN" and "uv " in rest for keyword, rest in final)
    env = " ".join(rest for keyword, rest in final if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    # The image is built from the lock file, without the dev extra, not editable.
    build = " ".join(rest for stage in dockerfile_stages(text)[:-1] for _k, rest in stage)
    assert "uv sync --locked --no-dev --no-editable" in build
    assert "--extra" not in build and "--all-extras" not in build


@pytest.mark.parametrize(
    ("final_stage", "expected"),
    [
        ("FROM python:3.11-slim\nUSER 0\n", "not a numeric non-root"),
        ("FROM python:3.11-slim\nUSER ordergen\n", "not a numeric non-root"),
        ("FROM python:3.11-slim\nUSER 10001:0\n", "not a numeric non-root"),
        ('FROM python:3.11-slim\nENTRYPOINT ["ordergen"]\n', "no USER"),
    ],
)
def test_dockerfile_check_rejects(final_stage: str, expected: str) -> None:
    text = "FROM python:3.11-slim AS build\nUSER 10001\n" + final_stage
    assert expected in " ".join(final_user_problems(text))
    assert final_user_problems("FROM python:3.11-slim\nUSER 10001\n") == ["not a multi-stage build"]
