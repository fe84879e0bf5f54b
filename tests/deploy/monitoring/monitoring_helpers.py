"""Helpers of the monitoring tests: the rules, the dashboard, the runbook, Prometheus' own
tools, and the metric names a PromQL expression reads.

promtool (Debian's `prometheus` package, which scripts/test installs) parses and tests
everything here; the name extraction below only runs on expressions promtool accepted.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
MONITORING = ROOT / "monitoring"
RULES_FILE = MONITORING / "roster.rules.yml"
DASHBOARD_FILE = MONITORING / "dashboards" / "roster.json"
PLAIN_PROMETHEUS_CONFIG = MONITORING / "prometheus.yml"
PROMTOOL_TESTS = sorted((Path(__file__).parent / "promtool").glob("*.test.yml"))
RUNBOOK = ROOT / "docs" / "runbook.md"
RUNBOOK_URL = "https://github.com/example/roster/blob/main/docs/runbook.md"
OVERLAYS_DIR = ROOT / "kustomize" / "overlays"
MONITORING_GROUP = "monitoring.coreos.com"

# The SLOs: their record families, error budgets and windows (the alerting windows, and
# the 30-day period of the budget).
SLO_BUDGETS = {"roster:slo_availability_errors": 0.001, "roster:slo_latency_errors": 0.01}
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
# The latency SLIs: (method, route) -> threshold in seconds, a bucket bound.
LATENCY_THRESHOLDS = {("GET", "/users"): 0.5, ("GET", "/user/{email}"): 0.1, ("POST", "/user"): 2.5}

# Series the dashboard and the rules may read that roster does not export, each with why.
PLATFORM_SERIES = {
    "up": "Prometheus' own scrape health of each roster target",
    "kube_deployment_status_replicas_available": "kube-state-metrics: the pod count of the roster Deployment",
    "kube_pod_container_status_restarts_total": "kube-state-metrics: restarts of the roster container",
}


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: Debian's prometheus package ships it (scripts/test installs it)")
    return path


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def rule_groups() -> list[dict[str, Any]]:
    return load_yaml(RULES_FILE)["groups"]


def rules() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"]]


def alert_rules() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def recording_rules() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "record" in rule]


def load_render_module():
    """scripts/render-manifests as a module, the one the Kubernetes tests load."""
    sys.path.insert(0, str(ROOT / "tests" / "deploy" / "kubernetes"))
    from k8s_helpers import render

    return render


def kustomize_build(directory: Path) -> list[dict[str, Any]]:
    result = run([tool("kubectl"), "kustomize", str(directory)])
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading: lower case, punctuation dropped,
    spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def runbook_anchors() -> set[str]:
    return {
        github_anchor(match.group(1))
        for match in re.finditer(r"^#{1,6}\s+(.+?)\s*$", RUNBOOK.read_text(), flags=re.MULTILINE)
    }


# --- the dashboard ---------------------------------------------------------------------

# Values for Grafana's variables, so that every query is plain PromQL for promtool.
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "6h",
    "${namespace}": "roster",
    "$namespace": "roster",
}
LABEL_VALUES = re.compile(r"^label_values\((?P<expr>.+),\s*(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\)$")


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD_FILE.read_text())


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, PromQL) of every query: each panel target, and each query variable's
    label_values() selector, with Grafana's variables replaced by sample values."""
    queries = []
    for panel in panels(board):
        for target in panel.get("targets", []):
            queries.append((f"panel {panel['title']!r} target {target['refId']}", target["expr"]))
    for variable in board.get("templating", {}).get("list", []):
        if variable["type"] != "query":
            continue
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        match = LABEL_VALUES.match(query.strip())
        assert match, f"variable {variable['name']}: only label_values(selector, label) is used here, got {query!r}"
        queries.append((f"variable {variable['name']}", match.group("expr")))
    substituted = []
    for where, expr in queries:
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, f"{where}: a Grafana variable this test does not know: {expr}"
        substituted.append((where, expr))
    return substituted


# --- metric names in PromQL ----------------------------------------------------------

_TOKEN = re.compile(
    r"""
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
    | (?P<range>\[[^\]]*\])
    | (?P<duration>(?<![\w:.])[0-9]+(?:ms|s|m|h|d|w|y)(?![\w:]))
    | (?P<number>(?<![\w:])(?:0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)(?![\w:]))
    | (?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)
    | (?P<open>[({])
    | (?P<close>[)}])
    | (?P<other>\S)
    """,
    re.VERBOSE,
)
# Words that open a label list in parentheses, so that what follows names labels.
_LABEL_LIST_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
# Aggregations may put `by (...)` between their name and their argument.
_AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile"}
_KEYWORDS = _LABEL_LIST_WORDS | _AGGREGATIONS | {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The metric names a valid PromQL expression selects: names outside braces that do
    not call a function or aggregation, are no keyword, and do not sit in a label list
    (by, on, ...). A `__name__` matcher is refused: every name must be spelt out."""
    assert "__name__" not in expr, f"select series by name, not with __name__: {expr}"
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(expr)]
    names = set()
    depth_braces = 0
    label_list_depth: list[int] = []
    paren_depth = 0
    for index, (kind, text) in enumerate(tokens):
        following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
        if kind == "open":
            if text == "{":
                depth_braces += 1
            else:
                paren_depth += 1
                previous = tokens[index - 1][1] if index else ""
                if previous in _LABEL_LIST_WORDS:
                    label_list_depth.append(paren_depth)
            continue
        if kind == "close":
            if text == "}":
                depth_braces -= 1
            else:
                if label_list_depth and label_list_depth[-1] == paren_depth:
                    label_list_depth.pop()
                paren_depth -= 1
            continue
        if kind != "name" or depth_braces or label_list_depth:
            continue
        if text.lower() in _KEYWORDS or following == "(":
            continue
        names.add(text)
    return names


def exposition_names(text: str) -> set[str]:
    """Names of the series in a Prometheus text exposition (a /metrics body)."""
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group())
    return names
