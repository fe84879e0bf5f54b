"""Session fixtures of the Kubernetes packaging tests; helpers live in k8s_helpers.py."""

from typing import Any

import pytest

from k8s_helpers import EXAMPLE_VALUES, OVERLAYS, OVERLAYS_DIR, flatten, kustomize_build, read_values, render, values_file_id


@pytest.fixture(scope="session")
def chart_renders() -> dict[str, list[dict[str, Any]]]:
    """Documents of the chart rendered (hooks left out, as in the base) with its defaults
    and with each example values file, keyed "chart-<values>"."""
    renders = {}
    for path in [None, *EXAMPLE_VALUES]:
        renders[f"chart-{values_file_id(path)}"] = flatten(render.render_chart(read_values(path)))
    return renders


@pytest.fixture(scope="session")
def overlays() -> dict[str, list[dict[str, Any]]]:
    """Documents of each built overlay, keyed by overlay name."""
    return {name: kustomize_build(OVERLAYS_DIR / name) for name in OVERLAYS}


@pytest.fixture(scope="session")
def targets(chart_renders, overlays) -> dict[str, list[dict[str, Any]]]:
    """Everything that can reach a cluster: chart renders and built overlays."""
    return {**chart_renders, **overlays}
