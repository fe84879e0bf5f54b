"""The Helm chart: metadata, lint in strict mode, schema, renders with each values file."""

import re
import tomllib
from pathlib import Path

import helm_python as helm
import pytest
import yaml

from k8s_helpers import CHART_DIR, EXAMPLE_VALUES, ROOT, find, one, read_values, render, values_file_id

VALUES_FILES = [None, *EXAMPLE_VALUES]
RECOMMENDED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
)


def chart_metadata():
    return yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())


def test_chart_is_apiversion_v2_with_the_crate_version_as_app_version():
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    metadata = chart_metadata()
    assert metadata["apiVersion"] == "v2"
    assert metadata["appVersion"] == cargo["package"]["version"]


def test_example_values_files_exist():
    assert EXAMPLE_VALUES, "chart/ci/*.yaml holds the example values files"


@pytest.mark.parametrize("values_file", VALUES_FILES, ids=values_file_id)
def test_helm_lint_strict_finds_no_warning_or_error(values_file):
    report = helm.lint(
        CHART_DIR,
        read_values(values_file),
        strict=True,
        namespace=render.NAMESPACE,
        kube_version=render.KUBE_VERSION,
    )
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert report["total_charts_linted"] == 1
    assert not problems, problems


def test_helm_lint_strict_fails_on_values_the_schema_refuses():
    report = helm.lint(CHART_DIR, {"replicaCount": "two"}, strict=True, kube_version=render.KUBE_VERSION)
    assert [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]


@pytest.mark.parametrize("values_file", VALUES_FILES, ids=values_file_id)
def test_chart_renders_labelled_namespaced_documents(values_file):
    manifests = render.render_chart(read_values(values_file))
    documents = [doc for docs in manifests.values() for doc in docs]
    kinds = {doc["kind"] for doc in documents}
    assert {"Deployment", "Service", "ServiceAccount"} <= kinds
    for doc in documents:
        metadata = doc["metadata"]
        assert metadata["namespace"] == render.NAMESPACE, metadata["name"]
        missing = [label for label in RECOMMENDED_LABELS if label not in metadata.get("labels", {})]
        assert not missing, f"{doc['kind']}/{metadata['name']} lacks {missing}"


def test_schema_rejects_unknown_top_level_keys():
    with pytest.raises(helm.HelmValuesError, match="replicas"):
        render.render_chart({"replicas": 3})


@pytest.mark.parametrize(
    "values",
    [
        {"replicaCount": "2"},
        {"image": {"repository": "roster", "pullPolicy": "Sometimes"}},
        {"config": {"backend": "dynamodb", "port": 8080, "shutdownTimeoutSeconds": 20}},
        {"config": {"backend": "aws", "port": "8080", "shutdownTimeoutSeconds": 20}},
        {"autoscaling": {"enabled": "yes"}},
        {"ingress": {"annotations": {"alb.ingress.kubernetes.io/group.order": 10}}},
        {"serviceAccount": {"irsaRoleArn": "roster-role"}},
        {"resources": {"requests": {"cpu": "100m", "ephemeral-storage": "1Gi"}, "limits": {"cpu": "1"}}},
        {"podDisruptionBudget": {"maxUnavailable": "one"}},
        {"ingress": {"alb": {"certificateArn": "my-certificate"}}},
    ],
    ids=["replicas-string", "pull-policy", "backend", "port-string", "enabled-string", "annotation-number", "role-arn",
         "ephemeral-storage-outside-ephemeralStorage", "pdb-word", "certificate-not-an-arn"],
)
def test_schema_rejects_wrong_types_and_values(values):
    with pytest.raises(helm.HelmValuesError):
        render.render_chart(values)


def test_every_values_key_has_a_comment():
    lines = (CHART_DIR / "values.yaml").read_text().splitlines()
    uncommented = []
    for number, line in enumerate(lines):
        key = re.match(r"^\s*(?:-\s+)?([A-Za-z0-9_.-]+):", line)
        if not key or line.lstrip().startswith("#"):
            continue
        previous = next((l for l in reversed(lines[:number]) if l.strip()), "")
        if "#" not in line and not previous.lstrip().startswith("#"):
            uncommented.append(f"line {number + 1}: {key.group(1)}")
    assert not uncommented, uncommented


@pytest.mark.parametrize(
    "values",
    [
        {"config": {"backend": "embedded"}},
        {"config": {"backend": "embedded"}, "autoscaling": {"enabled": False}, "replicaCount": 3},
    ],
    ids=["with-autoscaling", "three-replicas"],
)
def test_render_refuses_the_embedded_backend_on_several_pods(values):
    with pytest.raises(helm.HelmRenderError, match="embedded"):
        render.render_chart(values)


def test_embedded_backend_gets_one_pod_a_data_volume_and_recreate_rollouts():
    documents = [doc for docs in render.render_chart(read_values(CHART_DIR / "ci" / "embedded-values.yaml")).values() for doc in docs]
    deployment = one(documents, "Deployment", "roster")
    spec = deployment["spec"]
    assert spec["replicas"] == 1 and not find(documents, "HorizontalPodAutoscaler")
    assert spec["strategy"]["type"] == "Recreate"
    claim = one(documents, "PersistentVolumeClaim")
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    roster = spec["template"]["spec"]["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in roster["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in roster["env"]}
    assert env["ROSTER_BACKEND"] == "embedded"
    assert mounts["data"] == env["ROSTER_DATA_DIR"]


def test_irsa_role_sets_the_service_account_annotation_and_leaves_the_api_token_unmounted():
    """The EKS pod identity webhook projects its own sts.amazonaws.com token for the role:
    IRSA needs the annotation, not the Kubernetes API token."""
    role = "arn:aws:iam::123456789012:role/roster"
    documents = [doc for docs in render.render_chart({"serviceAccount": {"irsaRoleArn": role}}).values() for doc in docs]
    account = one(documents, "ServiceAccount")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role
    pod = one(documents, "Deployment")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"] == "roster"
    assert pod["automountServiceAccountToken"] is False
    assert account["automountServiceAccountToken"] is False


def test_api_token_is_mounted_only_when_asked_for():
    documents = [doc for docs in render.render_chart({"serviceAccount": {"automountToken": True}}).values() for doc in docs]
    assert one(documents, "Deployment")["spec"]["template"]["spec"]["automountServiceAccountToken"] is True
    assert one(documents, "ServiceAccount")["automountServiceAccountToken"] is True


def test_optional_ingress_takes_class_and_annotations_from_values():
    values = {
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "6m"},
        }
    }
    ingress = one([d for docs in render.render_chart(values).values() for d in docs], "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["metadata"]["annotations"] == {"nginx.ingress.kubernetes.io/proxy-body-size": "6m"}
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "roster", "port": {"name": "http"}}


def test_network_policy_is_optional():
    on = [d for docs in render.render_chart(None).values() for d in docs]
    off = [d for docs in render.render_chart({"networkPolicy": {"enabled": False}}).values() for d in docs]
    assert find(on, "NetworkPolicy") and not find(off, "NetworkPolicy")


def test_helm_test_pod_checks_readyz_through_the_service_and_stays_out_of_the_base():
    with_hooks = render.render_chart(None, include_hooks=True)
    tests = [doc for docs in with_hooks.values() for doc in docs if render.is_hook(doc)]
    assert len(tests) == 1
    pod = tests[0]
    assert pod["kind"] == "Pod"
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    command = " ".join(pod["spec"]["containers"][0].get("args", []) + pod["spec"]["containers"][0].get("command", []))
    assert re.search(r"http://roster\.roster\.svc:8080/readyz\b", command), command
    # The test pod must never be picked by the Service, PDB or NetworkPolicy selectors.
    service = one([d for docs in with_hooks.values() for d in docs], "Service")
    selected = all(pod["metadata"]["labels"].get(k) == v for k, v in service["spec"]["selector"].items())
    assert not selected
    base = [doc for docs in render.render_chart(None).values() for doc in docs]
    assert not [doc for doc in base if doc["kind"] == "Pod"]


def test_notes_are_shipped():
    assert (CHART_DIR / "templates" / "NOTES.txt").read_text().strip()
