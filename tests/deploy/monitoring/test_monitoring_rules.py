"""The rules of monitoring/roster.rules.yml: valid and lint-clean for promtool, unit-tested
with promtool (every alert fires in one case and stays silent in another), shaped as the
SRE workbook's scheme says, documented in the runbook, and shipped unchanged by the chart,
its Kustomize component and the EKS overlay, and by the plain-Prometheus example."""

import re

import jsonschema
import pytest
import yaml

from monitoring_helpers import (
    MONITORING_GROUP,
    OVERLAYS_DIR,
    PLAIN_PROMETHEUS_CONFIG,
    PROMTOOL_TESTS,
    ROOT,
    RULES_FILE,
    RUNBOOK_URL,
    SLO_BUDGETS,
    SLO_WINDOWS,
    alert_rules,
    kustomize_build,
    load_render_module,
    load_yaml,
    recording_rules,
    rule_groups,
    run,
    runbook_anchors,
    tool,
)

render = load_render_module()
CRDS = ROOT / "tests" / "deploy" / "monitoring" / "crds"
MONITORING_ON = render.MONITORING_VALUES
# The workbook's tiers: (long, short window) -> (burn rate, severity, for).
BURN_TIERS = {("1h", "5m"): (14.4, "page"), ("6h", "30m"): (6, "page"), ("1d", "2h"): (3, "ticket"), ("3d", "6h"): (1, "ticket")}


def flat(manifests):
    return [doc for docs in manifests.values() for doc in docs]


def test_promtool_check_rules_is_clean_with_every_lint():
    result = run([tool("promtool"), "check", "rules", "--lint=all", "--lint-fatal", str(RULES_FILE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass():
    assert PROMTOOL_TESTS, "tests/deploy/monitoring/promtool/*.test.yml hold the unit tests"
    result = run([tool("promtool"), "test", "rules", *map(str, PROMTOOL_TESTS)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_can_fail(tmp_path):
    """The unit tests judge the rules: a threshold moved by one tier breaks them."""
    rules = RULES_FILE.read_text().replace("> (14.4 * 0.001)", "> (144 * 0.001)")
    assert rules != RULES_FILE.read_text()
    (tmp_path / "roster.rules.yml").write_text(rules)
    tests = []
    for path in [p for p in PROMTOOL_TESTS if p.name == "slo-availability.test.yml"]:
        test = load_yaml(path)
        test["rule_files"] = [str(tmp_path / "roster.rules.yml")]
        tests.append(tmp_path / path.name)
        tests[-1].write_text(yaml.safe_dump(test, sort_keys=False))
    result = run([tool("promtool"), "test", "rules", *map(str, tests)])
    assert result.returncode != 0 and "RosterAvailabilityBudgetBurn" in result.stdout + result.stderr


def unit_test_cases():
    for path in PROMTOOL_TESTS:
        for group in load_yaml(path)["tests"]:
            for case in group.get("alert_rule_test", []):
                yield path.name, group["name"], case


def rule_identity(alertname, labels):
    """An alert rule is its name plus its own labels (the four tiers share a name)."""
    return alertname, tuple(sorted(labels.items()))


def test_every_alert_rule_fires_in_a_unit_test_and_every_alert_stays_silent_in_one():
    firing, silent = set(), set()
    rule_labels = {rule_identity(r["alert"], r.get("labels", {})) for r in alert_rules()}
    for _, _, case in unit_test_cases():
        if not case.get("exp_alerts"):
            silent.add(case["alertname"])
        for alert in case.get("exp_alerts") or []:
            for identity in rule_labels:
                if identity[0] == case["alertname"] and set(identity[1]) <= set(alert["exp_labels"].items()):
                    firing.add(identity)
    assert rule_labels - firing == set(), "alert rules no unit test sees firing"
    assert {r["alert"] for r in alert_rules()} - silent == set(), "alerts no unit test sees silent"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: f"{r['alert']}-{r.get('labels', {}).get('long_window', '')}")
def test_every_alert_has_a_summary_a_description_with_numbers_and_a_runbook_entry(rule):
    annotations = rule["annotations"]
    assert annotations["summary"].strip()
    assert "$value" in annotations["description"], "the description gives the alert's value"
    url, _, anchor = annotations["runbook_url"].partition("#")
    assert url == RUNBOOK_URL
    assert anchor == rule["alert"].lower() and anchor in runbook_anchors(), f"docs/runbook.md has no '## {rule['alert']}'"
    assert rule["labels"]["severity"] in {"page", "ticket"}


def test_the_runbook_covers_every_alert_and_no_other():
    documented = {a for a in runbook_anchors() if a.startswith("roster")}
    assert documented == {r["alert"].lower() for r in alert_rules()}


def test_each_slo_is_recorded_over_every_window_with_one_expression():
    """For each SLI the windows differ only in the range: no window selects other series."""
    for family in SLO_BUDGETS:
        by_labels = {}
        for rule in recording_rules():
            record, _, window = rule["record"].rpartition(":ratio_rate")
            if record != family:
                continue
            assert set(re.findall(r"\[(\w+)\]", rule["expr"])) == {window}, rule["record"]
            shape = re.sub(r"\[\w+\]", "[W]", rule["expr"])
            by_labels.setdefault(tuple(sorted(rule.get("labels", {}).items())), {})[window] = shape
        assert by_labels, family
        for labels, windows in by_labels.items():
            assert tuple(sorted(windows, key=SLO_WINDOWS.index)) == SLO_WINDOWS, (family, labels)
            assert len(set(windows.values())) == 1, (family, labels)


def test_latency_thresholds_are_bucket_bounds():
    buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
    for rule in recording_rules():
        if "threshold_seconds" in rule.get("labels", {}):
            threshold = rule["labels"]["threshold_seconds"]
            assert float(threshold) in buckets
            assert f'le="{threshold}"' in rule["expr"]


def test_burn_rate_alerts_follow_the_workbook():
    """Each tier compares the long and the short window against the same multiple of the
    SLO's budget; 14.4 and 6 page, 3 and 1 open tickets."""
    tiers = {}
    for rule in alert_rules():
        if "slo" not in rule["labels"]:
            continue
        labels = rule["labels"]
        match = re.fullmatch(
            r"(?P<family>[\w:]+):ratio_rate(?P<long>\w+) > (?P<threshold>.+?)\s+and\s+"
            r"(?P=family):ratio_rate(?P<short>\w+) > (?P=threshold)\s*",
            rule["expr"],
        )
        assert match, rule["expr"]
        budget = SLO_BUDGETS[match["family"]]
        rate, severity = BURN_TIERS[(match["long"], match["short"])]
        expected = f"({rate:g} * {budget:g})" if rate != 1 else f"{budget:g}"
        assert match["threshold"] == expected, rule["expr"]
        assert (labels["long_window"], labels["short_window"], labels["severity"]) == (match["long"], match["short"], severity)
        tiers.setdefault(labels["slo"], set()).add((match["long"], match["short"]))
    assert tiers == {"availability": set(BURN_TIERS), "latency": set(BURN_TIERS)}


def test_chart_prometheus_rule_holds_the_rules_file_unchanged():
    rule = [d for d in flat(render.render_chart(MONITORING_ON)) if d["kind"] == "PrometheusRule"]
    assert len(rule) == 1
    assert rule[0]["spec"] == load_yaml(RULES_FILE)
    assert (ROOT / "chart" / "files" / "roster.rules.yml").read_bytes() == RULES_FILE.read_bytes(), \
        "chart/files/roster.rules.yml is stale: run `make manifests`"


def test_chart_with_every_monitoring_object_passes_helm_lint_strict():
    import helm_python as helm

    report = helm.lint(ROOT / "chart", MONITORING_ON, strict=True, namespace=render.NAMESPACE, kube_version=render.KUBE_VERSION)
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert report["total_charts_linted"] == 1 and not problems, problems


def test_eks_overlay_gets_the_prometheus_rule_service_monitor_and_dashboard():
    documents = kustomize_build(OVERLAYS_DIR / "eks")
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert {("PrometheusRule", "roster"), ("ServiceMonitor", "roster"), ("ConfigMap", "roster-dashboard")} <= kinds
    rule = next(d for d in documents if d["kind"] == "PrometheusRule")
    assert rule["spec"] == load_yaml(RULES_FILE)
    assert all(d["metadata"]["namespace"] == "roster" for d in documents if d["kind"] != "Namespace")


def monitoring_objects(documents):
    return [d for d in documents if d["apiVersion"].split("/")[0] == MONITORING_GROUP
            or "grafana_dashboard" in (d["metadata"].get("labels") or {})]


# The EKS values are the documented Operator path: they turn the three objects on, as the
# EKS overlay does (tests/deploy/kubernetes checks the two build the same objects).
OPERATOR_VALUES = {"eks-values"}


@pytest.mark.parametrize("values_file",
                         [None, *sorted(p for p in (ROOT / "chart" / "ci").glob("*.yaml") if p.stem not in OPERATOR_VALUES)],
                         ids=lambda p: "defaults" if p is None else p.stem)
def test_default_renders_hold_no_monitoring_objects(values_file):
    """Without the Operator or Grafana, `helm install` with the defaults or an example
    values file (but the EKS one) still works: none of the three optional objects is
    rendered."""
    values = None if values_file is None else load_yaml(values_file)
    assert monitoring_objects(flat(render.render_chart(values))) == []


def test_the_base_and_the_minikube_overlay_hold_no_monitoring_objects():
    assert monitoring_objects(kustomize_build(ROOT / "kustomize" / "base")) == []
    assert monitoring_objects(kustomize_build(OVERLAYS_DIR / "minikube")) == []


@pytest.mark.parametrize("kind", ["PrometheusRule", "ServiceMonitor"])
def test_monitoring_objects_match_the_operator_crd_schemas(kind):
    schema = load_yaml(CRDS / f"{kind.lower()}.schema.yaml")
    documents = [d for d in kustomize_build(OVERLAYS_DIR / "eks") + flat(render.render_chart(MONITORING_ON)) if d["kind"] == kind]
    assert len(documents) == 2
    for document in documents:
        jsonschema.validate(document, schema)


def test_crd_schemas_refuse_a_misspelt_field():
    document = next(d for d in flat(render.render_chart(MONITORING_ON)) if d["kind"] == "ServiceMonitor")
    document["spec"]["endpoints"][0]["scrapeInterval"] = "30s"
    with pytest.raises(jsonschema.ValidationError, match="scrapeInterval"):
        jsonschema.validate(document, load_yaml(CRDS / "servicemonitor.schema.yaml"))


def test_service_monitor_scrapes_the_services_http_port_as_job_roster():
    documents = flat(render.render_chart(MONITORING_ON))
    monitor = next(d for d in documents if d["kind"] == "ServiceMonitor")
    service = next(d for d in documents if d["kind"] == "Service")
    labels = service["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in monitor["spec"]["selector"]["matchLabels"].items())
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    assert {"action": "replace", "targetLabel": "job", "replacement": "roster"} in endpoint["relabelings"]
    assert all('job="roster"' in r["expr"] for r in recording_rules() if "http_requests_total" in r["expr"])


@pytest.mark.parametrize("on", [True, False])
def test_scrape_annotations_name_the_container_port_and_metrics_path(on):
    documents = flat(render.render_chart({"metrics": {"scrapeAnnotations": on}}))
    pod = next(d for d in documents if d["kind"] == "Deployment")["spec"]["template"]
    annotations = pod["metadata"].get("annotations") or {}
    if not on:
        assert not any(key.startswith("prometheus.io/") for key in annotations)
        return
    port = pod["spec"]["containers"][0]["ports"][0]["containerPort"]
    assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/metrics"}


def test_plain_prometheus_example_checks_with_promtool(tmp_path):
    """promtool checks the example configuration and, through it, the rules file. Debian's
    Prometheus is built without Kubernetes service discovery, so the pod discovery block
    is swapped for a static target here; the relabelling is checked as written."""
    config = load_yaml(PLAIN_PROMETHEUS_CONFIG)
    assert config["rule_files"] == [RULES_FILE.name]
    for job in config["scrape_configs"]:
        assert job["kubernetes_sd_configs"] == [{"role": "pod"}]
        del job["kubernetes_sd_configs"]
        job["static_configs"] = [{"targets": ["127.0.0.1:8080"]}]
    assert [job["job_name"] for job in config["scrape_configs"]] == ["roster"]
    (tmp_path / RULES_FILE.name).write_bytes(RULES_FILE.read_bytes())
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = run([tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules()) + len(recording_rules())} rules found" in result.stdout


def test_rule_groups_are_named_for_the_unit_tests_evaluation_order():
    """The unit tests evaluate recording groups before alerting ones by name."""
    for path in PROMTOOL_TESTS:
        order = load_yaml(path)["group_eval_order"]
        assert sorted(order) == sorted(g["name"] for g in rule_groups()), path.name
