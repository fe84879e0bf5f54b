"""The failure budget (docs/deployment.md, "Failure budget"): a drain, a zone loss, a
rollout, an upload burst and a store blip lose no request a client could not retry.

Checked on everything that can reach a cluster (the chart rendered with each values file,
the built overlays), and on the chart's own render-time refusals: each one fires for a
value just past its relation and not for the value at it.
"""

import copy
import json
import re
import shutil
import subprocess

import helm_python as helm
import pytest

from k8s_helpers import (
    CHART_DIR,
    OVERLAYS_DIR,
    ROOT,
    TARGETS,
    chart_defaults,
    container,
    deep_merge,
    env_of,
    find,
    kustomize_build,
    one,
    parse_duration_seconds,
    quantity_bytes,
    read_values,
    render,
    roster_deployment,
)

EKS_TARGETS = ["chart-eks-values", "eks"]
EKS_VALUES = read_values(CHART_DIR / "ci" / "eks-values.yaml")
ALB = "alb.ingress.kubernetes.io/"
TERRAFORM_ENV = OVERLAYS_DIR / "eks" / "terraform.env"
# What scripts/terraform-outputs-to-overlay writes, and nothing else.
TERRAFORM_KEYS = {
    "ROSTER_TABLE",
    "ROSTER_BUCKET",
    "ROSTER_AVATAR_BASE_URL",
    "AWS_REGION",
    "ROSTER_ROLE_ARN",
    "ROSTER_CERTIFICATE_ARN",
    "ROSTER_HOSTNAME",
}


def budget_assumptions(target: str) -> dict:
    """failureBudget.* as the target was rendered with (overlays use the chart's defaults)."""
    values = chart_defaults()
    if target.startswith("chart-") and target != "chart-defaults":
        values = deep_merge(values, read_values(CHART_DIR / "ci" / f"{target.removeprefix('chart-')}.yaml"))
    return values["failureBudget"]


def attribute(annotation: str, name: str) -> int:
    """One key=value of an ALB attributes annotation, as an integer."""
    pairs = dict(item.split("=", 1) for item in annotation.split(","))
    return int(pairs[name])


def budget_problems(documents: list[dict], budget: dict) -> list[str]:
    """Every budget relation the rendered objects break, recomputed from what a cluster
    would receive (independently of the chart's own checks, which overlays bypass)."""
    problems = []
    deployment = roster_deployment(documents)
    pod = deployment["spec"]["template"]["spec"]
    roster = container(deployment)
    env = env_of(roster)
    pre_stop = roster["lifecycle"]["preStop"]["sleep"]["seconds"]
    shutdown = parse_duration_seconds(env["ROSTER_SHUTDOWN_TIMEOUT"])
    create = parse_duration_seconds(env["ROSTER_CREATE_TIMEOUT"])
    keepalive = parse_duration_seconds(env["ROSTER_KEEPALIVE_TIMEOUT"])
    stall = parse_duration_seconds(env["ROSTER_UPLOAD_STALL_TIMEOUT"])
    grace = pod["terminationGracePeriodSeconds"]
    lag, blip, removal = budget["deregistrationLagSeconds"], budget["storeBlipSeconds"], budget["brokenPodRemovalSeconds"]

    if pre_stop < lag:
        problems.append(f"preStop {pre_stop} s ends before routing stops ({lag} s)")
    if create > shutdown:
        problems.append(f"create timeout {create} s outlasts the shutdown timeout {shutdown} s")
    if grace <= pre_stop + shutdown:
        problems.append(f"grace period {grace} s does not exceed preStop + shutdown ({pre_stop + shutdown} s)")

    # A probe fails when it starts during the blip or its timeout before it; one more
    # failure than such a run is needed to unready the pod.
    readiness = roster["readinessProbe"]
    period, timeout, failures = readiness["periodSeconds"], readiness["timeoutSeconds"], readiness["failureThreshold"]
    if (failures - 1) * period < blip + timeout:
        problems.append(f"readiness {failures} x {period} s (timeout {timeout} s) trips on a {blip} s blip")
    if failures * period + timeout > removal:
        problems.append(f"readiness leaves a broken pod in for {failures * period + timeout} s > {removal} s")

    spool = int(env["ROSTER_CONCURRENT_UPLOADS"]) * 2 * int(env["ROSTER_MAX_AVATAR_BYTES"])
    volumes = {v["name"]: v for v in pod["volumes"]}
    tmp_mount = one_mount(roster, "/tmp")
    size_limit = volumes[tmp_mount]["emptyDir"].get("sizeLimit")
    if size_limit is None or quantity_bytes(size_limit) <= spool:
        problems.append(f"/tmp emptyDir ({size_limit}) does not hold the {spool} byte upload spool with a margin")
    requested = roster["resources"].get("requests", {}).get("ephemeral-storage")
    limited = roster["resources"].get("limits", {}).get("ephemeral-storage")
    if requested is None or limited is None or quantity_bytes(requested) != quantity_bytes(limited):
        problems.append(f"ephemeral-storage request ({requested}) and limit ({limited}) are not one figure")
    elif size_limit is not None and quantity_bytes(limited) <= quantity_bytes(size_limit):
        problems.append(f"ephemeral-storage limit {limited} leaves no room beside /tmp ({size_limit})")

    for ingress in find(documents, "Ingress"):
        annotations = ingress["metadata"].get("annotations") or {}
        if ALB + "target-type" not in annotations:
            continue
        drain = attribute(annotations[ALB + "target-group-attributes"], "deregistration_delay.timeout_seconds")
        idle = attribute(annotations[ALB + "load-balancer-attributes"], "idle_timeout.timeout_seconds")
        if drain < pre_stop + shutdown:
            problems.append(f"ALB draining window {drain} s ends before roster's shutdown ({pre_stop + shutdown} s)")
        if keepalive <= idle:
            problems.append(f"keep-alive {keepalive} s does not outlast the ALB idle timeout {idle} s")
        if create >= idle or stall >= idle:
            problems.append(f"create ({create} s) or upload stall ({stall} s) timeout not below the ALB idle timeout {idle} s")
        interval = int(annotations[ALB + "healthcheck-interval-seconds"])
        hc_timeout = int(annotations[ALB + "healthcheck-timeout-seconds"])
        unhealthy = int(annotations[ALB + "unhealthy-threshold-count"])
        if hc_timeout >= interval:
            problems.append("ALB health check timeout not below its interval")
        if (unhealthy - 1) * interval < blip + hc_timeout:
            problems.append(f"ALB health check {unhealthy} x {interval} s (timeout {hc_timeout} s) trips on a {blip} s blip")
        if unhealthy * interval + hc_timeout > removal:
            problems.append(f"ALB keeps a broken target for {unhealthy * interval + hc_timeout} s > {removal} s")
        if annotations[ALB + "healthcheck-path"] != readiness["httpGet"]["path"]:
            problems.append("ALB health check and readiness probe ask different routes")
    return problems


def one_mount(item: dict, path: str) -> str:
    mounts = [m["name"] for m in item.get("volumeMounts", []) if m["mountPath"] == path]
    assert len(mounts) == 1, f"{item['name']} mounts {path} {len(mounts)} times"
    return mounts[0]


# --- the budget on every target ------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_keeps_the_failure_budget(target, targets):
    assert budget_problems(targets[target], budget_assumptions(target)) == []


def set_pre_stop(docs, seconds):
    container(roster_deployment(docs))["lifecycle"]["preStop"]["sleep"]["seconds"] = seconds


def set_draining(docs, seconds):
    one(docs, "Ingress")["metadata"]["annotations"][ALB + "target-group-attributes"] = (
        f"deregistration_delay.timeout_seconds={seconds}"
    )


def set_readiness_failures(docs, failures):
    container(roster_deployment(docs))["readinessProbe"]["failureThreshold"] = failures


def set_tmp_size(docs, size):
    pod = roster_deployment(docs)["spec"]["template"]["spec"]
    next(v for v in pod["volumes"] if v["name"] == "tmp")["emptyDir"]["sizeLimit"] = size


def drop_ephemeral_limit(docs):
    del container(roster_deployment(docs))["resources"]["limits"]["ephemeral-storage"]


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda docs: set_pre_stop(docs, 5), "preStop 5 s ends before routing stops"),
        (lambda docs: set_draining(docs, 30), "ALB draining window 30 s"),
        (lambda docs: set_readiness_failures(docs, 2), "trips on a 10 s blip"),
        (lambda docs: set_tmp_size(docs, "128Mi"), "does not hold the 167772160 byte upload spool"),
        (drop_ephemeral_limit, "are not one figure"),
    ],
    ids=["prestop-5s", "draining-30s", "readiness-2-failures", "tmp-128Mi", "no-ephemeral-limit"],
)
def test_budget_check_notices_an_overlay_that_breaks_it(edit, expected, overlays):
    """The check on built targets can fail: the old values of issue #20 are caught."""
    documents = copy.deepcopy(overlays["eks"])
    edit(documents)
    problems = budget_problems(documents, budget_assumptions("eks"))
    assert any(expected in problem for problem in problems), problems


# --- the chart's render-time refusals ------------------------------------------------

WITH_ALB = {"ingress": EKS_VALUES["ingress"]}


def alb(values: dict) -> dict:
    return deep_merge(WITH_ALB, values)


# (values at the relation's edge, which render; values one step past it, and the refusal)
REFUSALS = {
    "prestop-before-deregistration": (
        {"lifecycle": {"preStopSleepSeconds": 25}},
        {"lifecycle": {"preStopSleepSeconds": 24}},
        r"preStopSleepSeconds \(24\) must be at least failureBudget.deregistrationLagSeconds \(25\)",
    ),
    "create-outlasts-shutdown": (
        {"config": {"createTimeoutSeconds": 30}},
        {"config": {"createTimeoutSeconds": 31}},
        r"createTimeoutSeconds \(31\) must not exceed config.shutdownTimeoutSeconds \(30\)",
    ),
    "grace-period": (
        {"terminationGracePeriodSeconds": 61},
        {"terminationGracePeriodSeconds": 60},
        r"terminationGracePeriodSeconds \(60\) must exceed lifecycle.preStopSleepSeconds \+ config.shutdownTimeoutSeconds \(60\)",
    ),
    "orphan-grace": (
        {"config": {"orphanGraceSeconds": 100}},
        {"config": {"orphanGraceSeconds": 99}},
        r"orphanGraceSeconds \(99\) must be at least 4 x config.createTimeoutSeconds \(100\)",
    ),
    "readiness-trips-on-a-blip": (
        {"probes": {"readiness": {"timeoutSeconds": 5}}},
        {"probes": {"readiness": {"timeoutSeconds": 6}}},
        r"probes.readiness .* would mark pods unready during a failureBudget.storeBlipSeconds \(10\) store blip",
    ),
    "readiness-too-slow-for-a-broken-pod": (
        {"failureBudget": {"brokenPodRemovalSeconds": 23}},
        {"failureBudget": {"brokenPodRemovalSeconds": 22}},
        r"probes.readiness takes up to .* = 23 s to take a broken pod out, more than failureBudget.brokenPodRemovalSeconds \(22\)",
    ),
    "tmp-below-the-spool": (
        {"tmp": {"sizeLimitMi": 192}},
        {"tmp": {"sizeLimitMi": 191}},
        r"tmp.sizeLimitMi \(191\) must be at least the upload spool .* = 160 MiB\) \+ tmp.marginMi \(32\)",
    ),
    "spool-grows-past-tmp": (
        {"config": {"concurrentUploads": 16}, "tmp": {"sizeLimitMi": 192}},
        {"config": {"concurrentUploads": 17}, "tmp": {"sizeLimitMi": 192}},
        r"tmp.sizeLimitMi \(192\) must be at least the upload spool .* = 170 MiB\)",
    ),
    "ephemeral-below-tmp": (
        {"ephemeralStorage": {"mi": 256}},
        {"ephemeralStorage": {"mi": 255}},
        r"ephemeralStorage.mi \(255\) must be at least the /tmp emptyDir \(192 MiB\) \+ ephemeralStorage.logsMi \(64\)",
    ),
    "pdb-blocks-drains": (
        {"podDisruptionBudget": {"maxUnavailable": 1}},
        {"podDisruptionBudget": {"maxUnavailable": 0}},
        r"maxUnavailable 0 lets no pod be evicted: a node drain would never finish",
    ),
    "pdb-blocks-drains-as-a-percentage": (
        {"podDisruptionBudget": {"maxUnavailable": "25%"}},
        {"podDisruptionBudget": {"maxUnavailable": "0%"}},
        r"maxUnavailable 0% lets no pod be evicted",
    ),
    "pdb-lets-every-replica-go-as-a-percentage": (
        {"podDisruptionBudget": {"maxUnavailable": "99%"}},
        {"podDisruptionBudget": {"maxUnavailable": "100%"}},
        r"maxUnavailable 100% must be below 100%: a drain could evict every pod at once",
    ),
    "pdb-lets-every-replica-go": (
        {"autoscaling": {"minReplicas": 3}, "podDisruptionBudget": {"maxUnavailable": 2}},
        {"autoscaling": {"minReplicas": 2}, "podDisruptionBudget": {"maxUnavailable": 2}},
        r"maxUnavailable \(2\) must be below the replica count \(2\)",
    ),
    "alb-without-certificate": (
        alb({}),
        alb({"ingress": {"alb": {"certificateArn": ""}}}),
        r"ingress.alb.certificateArn is required: the ALB serves HTTPS",
    ),
    "alb-drains-too-briefly": (
        alb({"ingress": {"alb": {"deregistrationDelaySeconds": 60}}}),
        alb({"ingress": {"alb": {"deregistrationDelaySeconds": 59}}}),
        r"deregistrationDelaySeconds \(59\), the ALB's draining window, must be at least .* \(60\)",
    ),
    "keepalive-within-alb-idle": (
        alb({"config": {"keepaliveTimeoutSeconds": 61}}),
        alb({"config": {"keepaliveTimeoutSeconds": 60}}),
        r"keepaliveTimeoutSeconds \(60\) must exceed ingress.alb.idleTimeoutSeconds \(60\)",
    ),
    "create-outlasts-alb-idle": (
        alb({"ingress": {"alb": {"idleTimeoutSeconds": 26}}}),
        alb({"ingress": {"alb": {"idleTimeoutSeconds": 25}}}),
        r"createTimeoutSeconds \(25\) must be below ingress.alb.idleTimeoutSeconds \(25\)",
    ),
    "upload-stall-outlasts-alb-idle": (
        alb({"config": {"uploadStallTimeoutSeconds": 59}}),
        alb({"config": {"uploadStallTimeoutSeconds": 60}}),
        r"uploadStallTimeoutSeconds \(60\) must be below ingress.alb.idleTimeoutSeconds \(60\)",
    ),
    "alb-check-timeout-not-below-interval": (
        alb({"ingress": {"alb": {"healthCheck": {"timeoutSeconds": 9}}}}),
        alb({"ingress": {"alb": {"healthCheck": {"timeoutSeconds": 10}}}}),
        r"healthCheck.timeoutSeconds \(10\) must be below intervalSeconds \(10\)",
    ),
    "alb-check-trips-on-a-blip": (
        alb({"ingress": {"alb": {"healthCheck": {"intervalSeconds": 8}}}}),
        alb({"ingress": {"alb": {"healthCheck": {"intervalSeconds": 7}}}}),
        r"ingress.alb.healthCheck .* would mark targets unhealthy during a failureBudget.storeBlipSeconds \(10\) store blip",
    ),
    "alb-too-slow-for-a-broken-pod": (
        alb({"failureBudget": {"brokenPodRemovalSeconds": 35}}),
        alb({"failureBudget": {"brokenPodRemovalSeconds": 34}}),
        r"ingress.alb.healthCheck takes up to .* = 35 s to take a broken target out",
    ),
    "annotation-overrides-the-budget": (
        alb({"ingress": {"annotations": {ALB + "tags": "team=roster"}}}),
        alb({"ingress": {"annotations": {ALB + "target-group-attributes": "deregistration_delay.timeout_seconds=5"}}}),
        r"ingress.annotations sets alb.ingress.kubernetes.io/target-group-attributes, which ingress.alb.\* writes",
    ),
    "extra-env-overrides-a-setting": (
        {"extraEnv": [{"name": "ROSTER_LIST_PAGE_SIZE", "value": "500"}]},
        {"extraEnv": [{"name": "ROSTER_SHUTDOWN_TIMEOUT", "value": "5s"}]},
        r"extraEnv sets ROSTER_SHUTDOWN_TIMEOUT, which the chart sets from its values",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_render_refuses_values_that_break_the_budget(case):
    _, broken, message = REFUSALS[case]
    with pytest.raises(helm.HelmRenderError, match=message):
        render.render_chart(broken)


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_render_accepts_values_at_the_edge_of_each_relation(case):
    """Each refusal is exactly its relation: the value at the edge renders."""
    edge, _, _ = REFUSALS[case]
    documents = [doc for docs in render.render_chart(edge).values() for doc in docs]
    assert roster_deployment(documents)


# --- spread and disruption: a drain or a zone loss strands no pod --------------------


def spread(documents):
    return {c["topologyKey"]: c for c in roster_deployment(documents)["spec"]["template"]["spec"]["topologySpreadConstraints"]}


@pytest.mark.parametrize("target", TARGETS)
def test_spread_ignores_nodes_a_pod_cannot_use(target, targets):
    """Honor: a cordoned (draining) node carries node.kubernetes.io/unschedulable and an
    unreachable one (a lost zone) node.kubernetes.io/unreachable:NoSchedule, which the
    pods do not tolerate, so neither counts as a domain the skew must fill. minDomains
    would count a lost zone as an empty domain and hold replacements Pending."""
    constraints = spread(targets[target])
    assert sorted(constraints) == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
    for key, constraint in constraints.items():
        assert constraint["nodeTaintsPolicy"] == "Honor", key
        assert constraint["nodeAffinityPolicy"] == "Honor", key
        assert "minDomains" not in constraint, key
        assert constraint["matchLabelKeys"] == ["pod-template-hash"], key
    # A full node must never hold a pod that fits on another one.
    assert constraints["kubernetes.io/hostname"]["whenUnsatisfiable"] == "ScheduleAnyway"


@pytest.mark.parametrize("target", EKS_TARGETS)
def test_eks_zone_spread_is_hard_with_a_pod_per_zone(target, targets):
    documents = targets[target]
    assert spread(documents)["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "DoNotSchedule"
    # Terraform's node groups span three zones: one pod each at the least.
    assert one(documents, "HorizontalPodAutoscaler")["spec"]["minReplicas"] >= 3


@pytest.mark.parametrize("target", [t for t in TARGETS if t != "chart-embedded-values"])
def test_disruption_budget_lets_a_drain_proceed_while_keeping_capacity(target, targets):
    documents = targets[target]
    budget = one(documents, "PodDisruptionBudget")["spec"]
    assert budget["maxUnavailable"] == 1 and "minAvailable" not in budget
    # Not-ready pods serve nothing; refusing to evict them would only block the drain.
    assert budget["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    hpas = find(documents, "HorizontalPodAutoscaler")
    replicas = hpas[0]["spec"]["minReplicas"] if hpas else roster_deployment(documents)["spec"]["replicas"]
    if replicas > 1:
        assert replicas - budget["maxUnavailable"] >= 1, "a drain keeps a pod serving"


# --- disk: bounded and requested -----------------------------------------------------


def ephemeral(documents):
    resources = container(roster_deployment(documents))["resources"]
    return resources["requests"]["ephemeral-storage"], resources["limits"]["ephemeral-storage"]


def tmp_size(documents):
    pod = roster_deployment(documents)["spec"]["template"]["spec"]
    return next(v for v in pod["volumes"] if v["name"] == "tmp")["emptyDir"]["sizeLimit"]


@pytest.mark.parametrize("target", TARGETS)
def test_tmp_holds_the_whole_upload_spool_and_the_scheduler_reserves_it(target, targets):
    documents = targets[target]
    env = env_of(container(roster_deployment(documents)))
    spool = int(env["ROSTER_CONCURRENT_UPLOADS"]) * 2 * int(env["ROSTER_MAX_AVATAR_BYTES"])
    assert quantity_bytes(tmp_size(documents)) > spool
    request, limit = ephemeral(documents)
    assert request == limit, "a burst never overcommits the node's disk"
    assert quantity_bytes(limit) > quantity_bytes(tmp_size(documents))


def test_default_disk_figures_are_the_documented_ones(targets):
    """16 uploads x 2 copies x 5 MiB = 160 MiB spool, + 32 MiB margin, + 64 MiB for logs."""
    assert tmp_size(targets["chart-defaults"]) == "192Mi"
    assert ephemeral(targets["chart-defaults"]) == ("256Mi", "256Mi")


def test_tmp_and_ephemeral_storage_follow_the_upload_settings():
    documents = [d for docs in render.render_chart({"config": {"concurrentUploads": 64, "maxAvatarBytes": 2097152}}).values() for d in docs]
    assert tmp_size(documents) == f"{64 * 2 * 2 + 32}Mi"
    assert ephemeral(documents) == (f"{64 * 2 * 2 + 32 + 64}Mi",) * 2
    env = env_of(container(roster_deployment(documents)))
    assert (env["ROSTER_CONCURRENT_UPLOADS"], env["ROSTER_MAX_AVATAR_BYTES"]) == ("64", "2097152")


# --- rollouts behind the ALB, and HTTPS on both EKS paths ----------------------------


@pytest.mark.parametrize("target", EKS_TARGETS)
def test_eks_alb_serves_https_and_redirects_http(target, targets):
    ingress = one(targets[target], "Ingress", "roster")
    annotations = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert json.loads(annotations[ALB + "listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations[ALB + "ssl-redirect"] == "443"
    assert re.fullmatch(r"arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+", annotations[ALB + "certificate-arn"])
    assert annotations[ALB + "ssl-policy"].startswith("ELBSecurityPolicy-TLS13")
    assert annotations[ALB + "target-type"] == "ip"
    assert annotations[ALB + "scheme"] == "internet-facing"
    assert annotations[ALB + "healthcheck-path"] == "/readyz/users"


def normalised(document: dict) -> dict:
    """A document without what legitimately tells the two paths apart: who manages it,
    and the order of env entries (Kubernetes resolves them by name)."""
    document = copy.deepcopy(document)
    for metadata in (document["metadata"], document.get("spec", {}).get("template", {}).get("metadata")):
        if metadata and "labels" in metadata:
            metadata["labels"].pop("app.kubernetes.io/managed-by", None)
    if document["kind"] == "Deployment":
        for item in document["spec"]["template"]["spec"]["containers"]:
            item["env"] = sorted(item["env"], key=lambda entry: entry["name"])
    return document


def test_helm_with_the_eks_values_and_the_overlay_build_the_same_objects(targets):
    """`helm install -f chart/ci/eks-values.yaml` and `kubectl apply -k kustomize/overlays/eks`
    give the same ALB, timings, spread, identity and telemetry; the overlay adds only its
    namespace (Helm's --create-namespace makes that one)."""
    by_name = lambda docs: {(d["kind"], d["metadata"]["name"]): normalised(d) for d in docs}  # noqa: E731
    helm_path, overlay = by_name(targets["chart-eks-values"]), by_name(targets["eks"])
    assert set(overlay) - set(helm_path) == {("Namespace", "roster")}
    for key, document in helm_path.items():
        assert overlay.get(key) == document, f"{key} differs between the two EKS paths"


def test_eks_overlay_exports_traces_like_the_values(targets):
    env = env_of(container(roster_deployment(targets["eks"])))
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == EKS_VALUES["otel"]["endpoint"]
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == EKS_VALUES["otel"]["protocol"]
    assert env["OTEL_RESOURCE_ATTRIBUTES"].endswith(",deployment.environment=production")


def test_eks_namespace_injects_the_alb_readiness_gate(overlays):
    """A rollout waits until the ALB sees a new pod healthy before an old one goes."""
    labels = one(overlays["eks"], "Namespace", "roster")["metadata"]["labels"]
    assert labels["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"


# --- Terraform's outputs feed the overlay ---------------------------------------------


def read_env_file(path) -> dict[str, str]:
    """A Kustomize env file: KEY=VALUE lines, # comments and blank lines skipped."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, separator, value = line.partition("=")
            assert separator, f"{path.name}: not KEY=VALUE: {line!r}"
            assert key not in pairs, f"{path.name}: {key} twice"
            pairs[key] = value
    return pairs


def test_terraform_env_is_the_generated_file_with_exactly_its_keys():
    header = TERRAFORM_ENV.read_text().splitlines()[0]
    assert header.startswith("# Generated by scripts/terraform-outputs-to-overlay")
    assert set(read_env_file(TERRAFORM_ENV)) == TERRAFORM_KEYS


def test_terraform_env_example_holds_the_example_tfvars_bucket():
    tfvars = (ROOT / "terraform" / "environments" / "aws" / "terraform.tfvars.example").read_text()
    bucket = re.search(r'^avatar_bucket_name\s*=\s*"([^"]+)"', tfvars, re.M)
    assert bucket, "terraform.tfvars.example names the avatar bucket"
    assert read_env_file(TERRAFORM_ENV)["ROSTER_BUCKET"] == bucket.group(1)


def test_overlay_reads_terraform_env_through_a_generator_it_keeps_out_of_the_output(overlays):
    kustomization = render.load_documents((OVERLAYS_DIR / "eks" / "kustomization.yaml").read_text())[0]
    generators = {g["name"]: g for g in kustomization["configMapGenerator"]}
    assert generators["terraform-outputs"]["envs"] == ["terraform.env"]
    sources = {r["source"]["fieldPath"].removeprefix("data.") for r in kustomization["replacements"]
               if r["source"]["name"] == "terraform-outputs"}
    assert sources == TERRAFORM_KEYS
    generated = [m for m in find(overlays["eks"], "ConfigMap") if m["metadata"]["name"] in generators]
    assert not generated, "the generated ConfigMaps are local configuration only"


# Values no example file uses, so each can only have come from terraform.env.
OTHER_OUTPUTS = {
    "ROSTER_TABLE": "roster-users-staging",
    "ROSTER_BUCKET": "roster-avatars-210987654321",
    "ROSTER_AVATAR_BASE_URL": "https://d2222222abcdef.cloudfront.net",
    "AWS_REGION": "eu-west-1",
    "ROSTER_ROLE_ARN": "arn:aws:iam::210987654321:role/roster-staging",
    "ROSTER_CERTIFICATE_ARN": "arn:aws:acm:eu-west-1:210987654321:certificate/11111111-2222-3333-4444-555555555555",
    "ROSTER_HOSTNAME": "roster.staging.example.org",
}


@pytest.fixture
def kustomize_copy(tmp_path):
    """The kustomize tree in a scratch directory, so terraform.env can be rewritten."""
    shutil.copytree(ROOT / "kustomize", tmp_path / "kustomize")
    return tmp_path / "kustomize" / "overlays" / "eks"


def write_env_file(path, pairs):
    path.write_text("".join(f"{key}={value}\n" for key, value in pairs.items()))


def test_every_aws_name_in_the_overlay_comes_from_terraform_env(kustomize_copy):
    write_env_file(kustomize_copy / "terraform.env", OTHER_OUTPUTS)
    documents = kustomize_build(kustomize_copy)
    env = env_of(container(roster_deployment(documents)))
    assert env["ROSTER_TABLE"] == OTHER_OUTPUTS["ROSTER_TABLE"]
    assert env["ROSTER_BUCKET"] == OTHER_OUTPUTS["ROSTER_BUCKET"]
    assert env["ROSTER_AVATAR_BASE_URL"] == OTHER_OUTPUTS["ROSTER_AVATAR_BASE_URL"]
    assert env["AWS_REGION"] == OTHER_OUTPUTS["AWS_REGION"]
    account = one(documents, "ServiceAccount", "roster")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == OTHER_OUTPUTS["ROSTER_ROLE_ARN"]
    ingress = one(documents, "Ingress", "roster")
    assert ingress["metadata"]["annotations"][ALB + "certificate-arn"] == OTHER_OUTPUTS["ROSTER_CERTIFICATE_ARN"]
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == [OTHER_OUTPUTS["ROSTER_HOSTNAME"]]
    # No example value survives anywhere (table and region are too common a word to look for).
    output = json.dumps(documents)
    committed = read_env_file(TERRAFORM_ENV)
    for key in TERRAFORM_KEYS - {"ROSTER_TABLE", "AWS_REGION"}:
        assert committed[key] not in output, f"{key}'s example value is still in the overlay"


def test_overlay_yaml_repeats_no_value_of_terraform_env():
    committed = read_env_file(TERRAFORM_ENV)
    for path in sorted((OVERLAYS_DIR / "eks").glob("*.yaml")):
        text = path.read_text()
        for key in TERRAFORM_KEYS - {"ROSTER_TABLE", "AWS_REGION"}:
            assert committed[key] not in text, f"{path.name} repeats {key}"


@pytest.mark.parametrize("missing", sorted(TERRAFORM_KEYS))
def test_overlay_refuses_to_build_without_a_terraform_output(missing, kustomize_copy):
    write_env_file(kustomize_copy / "terraform.env", {k: v for k, v in OTHER_OUTPUTS.items() if k != missing})
    result = subprocess.run(
        [shutil.which("kubectl"), "kustomize", str(kustomize_copy)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and f"data.{missing}" in result.stderr, result.stderr


# --- the documented budget is the chart's ---------------------------------------------


def documented_budget() -> dict[str, str]:
    """`value path` -> default, from the table in docs/deployment.md's Failure budget section."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    section = text.split("\n## Failure budget\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Za-z.]+)` \| (\d+) \|", section, re.M)
    assert rows, "the Failure budget section has its table of values"
    return dict(rows)


def lookup(values: dict, path: str):
    for part in path.split("."):
        values = values[part]
    return values


def test_documented_budget_figures_are_the_chart_defaults():
    defaults = chart_defaults()
    documented = documented_budget()
    for path, figure in documented.items():
        assert lookup(defaults, path) == int(figure), f"docs/deployment.md says {path} is {figure}"
    for required in ("lifecycle.preStopSleepSeconds", "config.shutdownTimeoutSeconds", "terminationGracePeriodSeconds",
                     "ingress.alb.deregistrationDelaySeconds", "ingress.alb.idleTimeoutSeconds",
                     "config.keepaliveTimeoutSeconds", "config.createTimeoutSeconds", "probes.readiness.failureThreshold",
                     "ingress.alb.healthCheck.unhealthyThreshold", "failureBudget.deregistrationLagSeconds"):
        assert required in documented, f"the budget table leaves out {required}"
