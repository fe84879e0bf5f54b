"""monitoring/dashboards/roster.json: a well-formed Grafana dashboard whose every query
promtool parses, that reads only series roster exports (the live /metrics of a real
roster), the recording rules, or a short list of platform series, and that the chart
ships unchanged as a ConfigMap for Grafana's sidecar."""

import json

import pytest
import yaml

from monitoring_helpers import (
    DASHBOARD_FILE,
    PLATFORM_SERIES,
    ROOT,
    SLO_BUDGETS,
    alert_rules,
    dashboard,
    dashboard_queries,
    exposition_names,
    load_render_module,
    metric_names,
    panels,
    recording_rules,
    run,
    tool,
)

render = load_render_module()


def test_dashboard_is_well_formed():
    board = dashboard()
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    titles = [p["title"] for p in panels(board) if p["type"] != "row"]
    assert len(titles) == len(set(titles)), "panel titles repeat"
    for panel in panels(board):
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"] and panel.get("description"), panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]


def test_every_dashboard_query_parses_as_promql(tmp_path):
    """promtool parses each query as the expression of a recording rule."""
    queries = dashboard_queries(dashboard())
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{n}", "expr": expr} for n, (_, expr) in enumerate(queries)
    ]}]}
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump(rules))
    result = run([tool("promtool"), "check", "rules", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout


def test_promql_parse_check_can_fail(tmp_path):
    path = tmp_path / "bad.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [{"record": "r", "expr": "sum by (route (x)"}]}]}))
    assert run([tool("promtool"), "check", "rules", str(path)]).returncode != 0


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (le, route) (rate(http_request_duration_seconds_bucket{job="roster", le="0.5"}[5m]))', {"http_request_duration_seconds_bucket"}),
        ("a / on (job) group_left (pod) b:c offset 5m", {"a", "b:c"}),
        ('1 - max(roster:x:ratio_rate30d{namespace="roster"}) / 0.001 or vector(0) > bool 1e6', {"roster:x:ratio_rate30d"}),
        ('histogram_quantile(0.99, sum without (pod) (rate(m[$__rate_interval])))'.replace("$__rate_interval", "5m"), {"m"}),
    ],
)
def test_metric_names_are_read_from_promql(expr, names):
    assert metric_names(expr) == names


def used_names() -> dict[str, str]:
    """Every metric name the dashboard and the rules read, and where."""
    used = {}
    for where, expr in dashboard_queries(dashboard()):
        for name in metric_names(expr):
            used.setdefault(name, where)
    for rule in recording_rules() + alert_rules():
        for name in metric_names(rule["expr"]):
            used.setdefault(name, f"rule {rule.get('record') or rule.get('alert')}")
    return used


def test_dashboard_and_rules_name_only_series_roster_exports(slo_run):
    """Allowed: what a real roster's /metrics lists after the traffic of the live test,
    the recording rules, and PLATFORM_SERIES (each with its reason)."""
    exported = exposition_names(slo_run.metrics_text)
    recorded = {rule["record"] for rule in recording_rules()}
    unknown = {name: where for name, where in used_names().items()
               if name not in exported | recorded | set(PLATFORM_SERIES)}
    assert not unknown, f"series neither roster nor the rules nor the platform export: {unknown}"


def test_platform_series_are_few_and_used():
    used = used_names()
    assert set(PLATFORM_SERIES) <= set(used), "drop an allowed platform series nothing reads"
    assert all(reason for reason in PLATFORM_SERIES.values())


def test_dashboard_shows_what_an_operator_needs():
    """Request rate, error ratio and latency by route, burn rates and budget, store
    latency and errors, in-flight requests, connections, uploads, pod count."""
    read = set().union(*(metric_names(expr) for _, expr in dashboard_queries(dashboard())))
    needed = {
        "http_requests_total", "http_request_duration_seconds_bucket", "http_requests_in_flight",
        "roster_store_operation_duration_seconds_bucket", "roster_store_errors_total", "roster_store_ready",
        "roster_connections_open", "roster_connections_max", "roster_uploads_ended_total",
        "roster_upload_spool_bytes", "kube_deployment_status_replicas_available",
        "roster:slo_availability_errors:ratio_rate30d", "roster:slo_latency_errors:ratio_rate30d",
        "roster:slo_availability_errors:ratio_rate1h", "roster:slo_latency_errors:ratio_rate1h",
    }
    assert needed <= read, needed - read
    exprs = " ".join(expr for _, expr in dashboard_queries(dashboard()))
    for family, budget in SLO_BUDGETS.items():
        assert f") / {budget:g}" in exprs, f"burn rates and budgets of {family} divide by its budget {budget:g}"


def test_chart_ships_the_dashboard_unchanged_for_the_sidecar():
    manifests = render.render_chart(render.MONITORING_VALUES)
    config_map = manifests["dashboard-configmap.yaml"][0]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["roster.json"]) == dashboard()
    assert (ROOT / "chart" / "files" / "roster-dashboard.json").read_bytes() == DASHBOARD_FILE.read_bytes(), \
        "chart/files/roster-dashboard.json is stale: run `make manifests`"
