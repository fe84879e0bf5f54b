"""A real Prometheus scraping a real roster: the recording rules give exactly the ratios
the test computes from the requests it sent, and roster's /metrics passes promtool's lint.

The traffic (conftest.py) has successes, 404s, 422s, real 503s from a store that is not
there, a POST /user whose body takes 3 s to arrive, and requests the SLOs must ignore
(unmatched paths, /healthz, Prometheus' own scrapes of /metrics).
"""

import pytest

from monitoring_helpers import LATENCY_THRESHOLDS, run, tool

API_ROUTES = {"/users", "/user", "/user/{email}", "/avatars/{key}"}
ALERTING_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


def recorded(slo_run, record: str, **labels) -> float:
    matchers = ", ".join(f'{name}="{value}"' for name, value in labels.items())
    result = slo_run.prometheus.query(f"{record}{{{matchers}}}")
    assert len(result) == 1, f"{record}{{{matchers}}}: expected one series, got {result}"
    assert result[0]["metric"]["job"] == "roster"
    return float(result[0]["value"][1])


def test_recorded_availability_ratios_equal_the_requests_sent(slo_run):
    """Every window's ratio is the measured 5xx answers over the measured API requests.

    The windows all cover the whole run, so they agree. rate() extrapolates each series
    by the same factor only because every series started before the first scrape with at
    least half the count the measured traffic adds, and eight scrapes or more passed."""
    api = [s for s in slo_run.measured() if s.route in API_ROUTES]
    failed = [s for s in api if s.status >= 500]
    assert {s.status for s in failed} == {503}
    assert 0 < len(failed) < len(api)
    assert any(s.status == 404 for s in api) and any(s.status == 422 for s in api)
    assert any(s.route not in API_ROUTES for s in slo_run.measured()), "the traffic holds requests the SLI must ignore"
    for window in ALERTING_WINDOWS:
        value = recorded(slo_run, f"roster:slo_availability_errors:ratio_rate{window}")
        assert value == pytest.approx(len(failed) / len(api), rel=1e-9), window


@pytest.mark.parametrize(("method", "route"), sorted(LATENCY_THRESHOLDS))
def test_recorded_latency_ratios_equal_the_requests_sent(slo_run, method, route):
    """Per route: the measured non-5xx, non-408 requests slower than the threshold, as
    roster itself timed them (its log line per request id), over all of them."""
    threshold = LATENCY_THRESHOLDS[(method, route)]
    judged = [s for s in slo_run.sent if s.method == method and s.route == route and s.status < 500 and s.status != 408]
    for sent in judged:
        assert slo_run.server_seconds[sent.request_id] <= sent.client_seconds + 0.01, "the server's clock ran past the client's"
    warm_up = [s for s in judged if s.phase == "warm-up"]
    assert warm_up and all(slo_run.server_seconds[s.request_id] <= threshold for s in warm_up), \
        "a slow warm-up request: the first samples of the buckets differ, so the rates cannot be compared exactly"
    measured = [s for s in judged if s.phase == "measured"]
    slow = [s for s in measured if slo_run.server_seconds[s.request_id] > threshold]
    if (method, route) == ("POST", "/user"):
        assert len(slow) == 1, "the deliberately slow upload is the one slow POST /user"
    for window in ALERTING_WINDOWS:
        value = recorded(slo_run, f"roster:slo_latency_errors:ratio_rate{window}", method=method, route=route)
        assert value == pytest.approx(len(slow) / len(measured), rel=1e-9, abs=1e-12), window


def test_roster_metrics_pass_promtool_check_metrics(slo_run):
    """Prometheus' naming and documentation lint on the live /metrics after the traffic:
    it reports each family without a HELP line, units in the wrong place, counters
    without _total and the like."""
    result = run([tool("promtool"), "check", "metrics"], input=slo_run.metrics_text)
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), \
        result.stdout + result.stderr
