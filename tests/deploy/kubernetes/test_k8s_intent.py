"""What the manifests mean, read from the built overlays and the chart renders."""

import re
from urllib.parse import urlparse

import pytest

from k8s_helpers import (
    IMAGE_UID,
    OVERLAYS,
    ROOT,
    TARGETS,
    container,
    declared_roster_variables,
    env_of,
    find,
    one,
    roster_deployment,
    served_get_routes,
)

CREDENTIAL_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
AWS_KEY_PATTERN = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")


def every_string(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from every_string(value)
    elif isinstance(node, list):
        for item in node:
            yield from every_string(item)
    elif node is not None:
        yield str(node)


def workloads(documents):
    return find(documents, "Deployment")


def all_containers(documents):
    for deployment in workloads(documents):
        pod = deployment["spec"]["template"]["spec"]
        for item in pod.get("initContainers", []) + pod["containers"]:
            yield deployment, pod, item


# --- EKS ---------------------------------------------------------------------------


def test_eks_service_account_carries_the_irsa_role(overlays):
    account = one(overlays["eks"], "ServiceAccount", "roster")
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/.+", role)
    # Terraform's trust policy names system:serviceaccount:roster:roster.
    assert account["metadata"]["namespace"] == "roster"
    assert roster_deployment(overlays["eks"])["spec"]["template"]["spec"]["serviceAccountName"] == "roster"


def test_eks_has_no_static_credentials(overlays):
    documents = overlays["eks"]
    assert not find(documents, "Secret")
    for _, _, item in all_containers(documents):
        names = {e["name"] for e in item.get("env", [])}
        assert not names & CREDENTIAL_VARIABLES, names & CREDENTIAL_VARIABLES
        assert "AWS_ENDPOINT_URL" not in names
        assert not item.get("envFrom")
    leaked = [s for s in every_string(documents) if AWS_KEY_PATTERN.search(s)]
    assert not leaked


def test_eks_points_at_the_terraform_table_and_bucket_without_an_emulator(overlays):
    env = env_of(container(roster_deployment(overlays["eks"])))
    assert env["ROSTER_BACKEND"] == "aws"
    assert env["ROSTER_TABLE"] and env["ROSTER_BUCKET"]
    assert env["ROSTER_AVATAR_BASE_URL"].startswith("https://")
    assert "AWS_ENDPOINT_URL" not in env


def test_eks_image_is_from_ecr_and_pinned_by_digest(overlays):
    image = container(roster_deployment(overlays["eks"]))["image"]
    assert re.fullmatch(r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/roster@sha256:[0-9a-f]{64}", image), image


def test_eks_autoscales_between_3_and_10_on_cpu_and_memory(overlays):
    """Three replicas, one per zone of Terraform's three: a drain or a lost zone leaves two."""
    hpa = one(overlays["eks"], "HorizontalPodAutoscaler", "roster")
    spec = hpa["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 10)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert {m["resource"]["name"] for m in spec["metrics"]} == {"cpu", "memory"}
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] > 0
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "roster"}
    assert "replicas" not in roster_deployment(overlays["eks"])["spec"], "the HPA owns the replica count"


def test_eks_spreads_pods_hard_across_zones(overlays):
    constraints = roster_deployment(overlays["eks"])["spec"]["template"]["spec"]["topologySpreadConstraints"]
    zones = [c for c in constraints if c["topologyKey"] == "topology.kubernetes.io/zone"]
    assert len(zones) == 1, zones
    assert zones[0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert zones[0]["labelSelector"]["matchLabels"] == roster_deployment(overlays["eks"])["spec"]["selector"]["matchLabels"]
    # A drained, cordoned or unreachable node (a lost zone) is no domain: its taints are
    # honoured, so replacements are never held to a skew they cannot fix.
    assert zones[0]["nodeTaintsPolicy"] == "Honor" and zones[0].get("nodeAffinityPolicy", "Honor") == "Honor"
    assert "minDomains" not in zones[0], "minDomains counts a lost zone as an empty one and strands pods"


def test_eks_ingress_is_an_alb_sending_to_the_roster_service(overlays):
    ingress = one(overlays["eks"], "Ingress", "roster")
    annotations = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] in served_get_routes()
    assert "alb.ingress.kubernetes.io/scheme" in annotations
    service = one(overlays["eks"], "Service", "roster")
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == "roster"
            assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


# --- minikube ----------------------------------------------------------------------


def test_minikube_runs_the_moto_emulator_pinned_to_a_5x_version(overlays):
    moto = one(overlays["minikube"], "Deployment", "moto")
    image = container(moto, "moto")["image"]
    assert re.fullmatch(r"motoserver/moto:5\.\d+\.\d+", image), image


def test_minikube_endpoint_points_at_the_emulator_service(overlays):
    documents = overlays["minikube"]
    env = env_of(container(roster_deployment(documents)))
    endpoint = urlparse(env["AWS_ENDPOINT_URL"])
    host = endpoint.hostname.split(".")
    service = one(documents, "Service", host[0])
    if len(host) > 1:
        assert host[1] == service["metadata"]["namespace"]
    port = [p for p in service["spec"]["ports"] if p["port"] == endpoint.port]
    assert port, f"{endpoint.geturl()} names no port of Service {service['metadata']['name']}"
    emulator = one(documents, "Deployment", "moto")
    labels = emulator["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    container_ports = {p["name"]: p["containerPort"] for p in container(emulator, "moto")["ports"]}
    target = port[0]["targetPort"]
    assert target in container_ports or target in container_ports.values()
    assert env["AWS_REGION"] == "us-east-1"
    assert env["ROSTER_BACKEND"] == "aws"


def test_minikube_uses_test_credentials_only_for_the_emulator(overlays):
    env = env_of(container(roster_deployment(overlays["minikube"])))
    assert env["AWS_ACCESS_KEY_ID"] == "test" and env["AWS_SECRET_ACCESS_KEY"] == "test"
    assert not AWS_KEY_PATTERN.search(" ".join(every_string(overlays["minikube"])))


def test_minikube_avatar_urls_reach_the_emulator_bucket_from_the_host(overlays):
    env = env_of(container(roster_deployment(overlays["minikube"])))
    base = urlparse(env["ROSTER_AVATAR_BASE_URL"])
    moto_port = one(overlays["minikube"], "Service", "moto")["spec"]["ports"][0]["port"]
    # Forwarded with `kubectl -n roster port-forward service/moto 5000:5000` (docs).
    assert base.hostname in ("localhost", "127.0.0.1") and base.port == moto_port
    assert base.path.strip("/") == env["ROSTER_BUCKET"], "path-style URL of the bucket"


def test_minikube_runs_one_pod_of_the_locally_loaded_image(overlays):
    documents = overlays["minikube"]
    deployment = roster_deployment(documents)
    roster = container(deployment)
    assert deployment["spec"]["replicas"] == 1
    assert not find(documents, "HorizontalPodAutoscaler")
    assert roster["imagePullPolicy"] == "IfNotPresent"
    assert "/" not in roster["image"].split("@")[0].split(":")[0], "a local image name, no registry"


def test_minikube_exposes_roster_on_a_node_port(overlays):
    service = one(overlays["minikube"], "Service", "roster")
    assert service["spec"]["type"] == "NodePort"
    assert 30000 <= service["spec"]["ports"][0]["nodePort"] <= 32767


def test_overlays_create_their_namespace_with_restricted_pod_security(overlays):
    for name in OVERLAYS:
        namespace = one(overlays[name], "Namespace", "roster")
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        for doc in overlays[name]:
            if doc["kind"] != "Namespace":
                assert doc["metadata"]["namespace"] == "roster", (name, doc["kind"])


# --- every target ------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_probes_point_at_routes_the_server_serves(target, targets):
    routes = served_get_routes()
    assert {"/healthz", "/readyz", "/readyz/users"} <= routes, "routes read from src/"
    roster = container(roster_deployment(targets[target]))
    ports = {p["name"]: p["containerPort"] for p in roster["ports"]}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        http = roster[probe]["httpGet"]
        assert http["path"] in routes, (probe, http["path"])
        assert http["port"] in ports or http["port"] in ports.values(), (probe, http["port"])
    assert roster["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # The users table only: an avatar-store outage leaves reads served (INTERFACES).
    assert roster["readinessProbe"]["httpGet"]["path"] == "/readyz/users"


@pytest.mark.parametrize("target", TARGETS)
def test_container_port_matches_roster_listen(target, targets):
    deployment = roster_deployment(targets[target])
    roster = container(deployment)
    listen = env_of(roster)["ROSTER_LISTEN"]
    host, _, port = listen.rpartition(":")
    assert host in ("0.0.0.0", "[::]"), "listens on every address, so probes and the Service reach it"
    assert [p["containerPort"] for p in roster["ports"]] == [int(port)]
    service = one(targets[target], "Service", "roster")
    for service_port in service["spec"]["ports"]:
        assert service_port["targetPort"] in (roster["ports"][0]["name"], int(port))
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())


@pytest.mark.parametrize("target", TARGETS)
def test_prestop_uses_the_native_sleep_because_the_image_has_no_shell(target, targets):
    for _, _, item in all_containers(targets[target]):
        for hook in (item.get("lifecycle") or {}).values():
            assert "exec" not in hook, f"{item['name']}: exec hooks need a shell"


def image_uid_from_nix() -> int:
    """The uid the Nix image runs as (nix/image-settings.nix), else the agreed 65532."""
    settings = ROOT / "nix" / "image-settings.nix"
    if settings.exists():
        match = re.search(r"^\s*uid\s*=\s*(\d+)\s*;", settings.read_text(), re.M)
        assert match, "nix/image-settings.nix names no uid"
        return int(match.group(1))
    return IMAGE_UID


@pytest.mark.parametrize("target", TARGETS)
def test_pods_run_as_the_uid_the_image_uses(target, targets):
    uid = image_uid_from_nix()
    deployment = roster_deployment(targets[target])
    pod = deployment["spec"]["template"]["spec"]
    roster = container(deployment)
    assert pod["securityContext"]["runAsUser"] == uid
    assert roster["securityContext"].get("runAsUser", uid) == uid
    assert pod["securityContext"]["runAsGroup"] == uid
    assert pod["securityContext"].get("fsGroup", uid) == uid


@pytest.mark.parametrize("target", TARGETS)
def test_every_pod_meets_the_restricted_pod_security_standard(target, targets):
    for deployment, pod, item in all_containers(targets[target]):
        where = f"{deployment['metadata']['name']}/{item['name']}"
        pod_context = pod.get("securityContext", {})
        context = item.get("securityContext", {})
        assert context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is True, where
        assert context.get("runAsUser", pod_context.get("runAsUser", 0)) != 0, where
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["readOnlyRootFilesystem"] is True, where
        assert context["capabilities"]["drop"] == ["ALL"] and not context["capabilities"].get("add"), where
        seccomp = context.get("seccompProfile", pod_context.get("seccompProfile", {}))
        assert seccomp.get("type") == "RuntimeDefault", where
        assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC"), where
        assert item["resources"]["requests"] and item["resources"]["limits"], where
        assert {"cpu", "memory"} <= set(item["resources"]["limits"]), where


@pytest.mark.parametrize("target", TARGETS)
def test_tmp_is_a_writable_emptydir(target, targets):
    for deployment, pod, item in all_containers(targets[target]):
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        tmp = [m for m in item.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
        assert len(tmp) == 1 and not tmp[0].get("readOnly"), deployment["metadata"]["name"]
        assert "emptyDir" in volumes[tmp[0]["name"]]


@pytest.mark.parametrize("target", [t for t in TARGETS if t != "chart-embedded-values"])
def test_rollouts_never_lower_capacity(target, targets):
    deployment = roster_deployment(targets[target])
    strategy = deployment["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert strategy["rollingUpdate"]["maxSurge"] not in (0, "0%")


@pytest.mark.parametrize("target", TARGETS)
def test_pods_spread_across_nodes_and_zones(target, targets):
    deployment = roster_deployment(targets[target])
    constraints = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    keys = sorted(c["topologyKey"] for c in constraints)
    assert keys == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
    for constraint in constraints:
        assert constraint["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("target", TARGETS)
def test_no_pod_mounts_the_kubernetes_api_token(target, targets):
    """Not even with IRSA: the pod identity webhook adds its own projected
    sts.amazonaws.com token whatever automountServiceAccountToken says."""
    documents = targets[target]
    for deployment in workloads(documents):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False, deployment["metadata"]["name"]
        for volume in pod.get("volumes", []):
            sources = (volume.get("projected") or {}).get("sources", [])
            assert not [s for s in sources if "serviceAccountToken" in s], volume["name"]
    for account in find(documents, "ServiceAccount"):
        assert account["automountServiceAccountToken"] is False
    skips = [s for s in every_string(documents) if "CKV_K8S_38" in s]
    assert not skips, "no checkov skip for the token check: nothing mounts it"


@pytest.mark.parametrize("target", TARGETS)
def test_disruption_budget_and_autoscaler_select_the_deployment(target, targets):
    documents = targets[target]
    deployment = roster_deployment(documents)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    budget = one(documents, "PodDisruptionBudget")
    assert budget["apiVersion"] == "policy/v1"
    assert all(labels.get(k) == v for k, v in budget["spec"]["selector"]["matchLabels"].items())
    for hpa in find(documents, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]


@pytest.mark.parametrize("target", TARGETS)
def test_configuration_variables_are_ones_the_server_reads(target, targets):
    known = declared_roster_variables()
    assert "ROSTER_LISTEN" in known, "variables read from src/config.rs"
    env = env_of(container(roster_deployment(targets[target])))
    unknown = {name for name in env if name.startswith("ROSTER_")} - known
    assert not unknown, unknown
    assert env["ROSTER_BACKEND"] in ("aws", "embedded")
    if env["ROSTER_BACKEND"] == "aws":
        assert {"ROSTER_TABLE", "ROSTER_BUCKET", "AWS_REGION"} <= set(env)
    else:
        assert "ROSTER_DATA_DIR" in env
    assert env["ROSTER_LOG_FORMAT"] in ("json", "text")
    assert env["OTEL_SERVICE_NAME"]


@pytest.mark.parametrize("target", ["chart-defaults", "eks"])
def test_production_logs_are_json(target, targets):
    assert env_of(container(roster_deployment(targets[target])))["ROSTER_LOG_FORMAT"] == "json"


def test_otel_endpoint_and_protocol_pass_through(targets):
    env = env_of(container(roster_deployment(targets["chart-eks-values"])))
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http")
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"
    assert "deployment.environment=production" in env["OTEL_RESOURCE_ATTRIBUTES"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env_of(container(roster_deployment(targets["chart-defaults"]))), \
        "no export unless an endpoint is configured"


@pytest.mark.parametrize("target", TARGETS)
def test_env_references_name_variables_defined_earlier(target, targets):
    """Kubernetes expands $(VAR) only from variables earlier in the list; overlay patches
    reorder env entries, so a reference could silently stay literal."""
    defined = set()
    for entry in container(roster_deployment(targets[target])).get("env", []):
        for reference in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", entry.get("value") or ""):
            assert reference in defined, f"{entry['name']} uses $({reference}) before it is set"
        defined.add(entry["name"])
