"""The corpus test reuses the end-to-end machinery (tests/e2e/conftest.py): the
roster binary from $ROSTER_BIN or `cargo build`, and `start_roster`, which runs it
on a free port with a fresh embedded store and stops it by its PID.

It also prints the corpus figures at the end of the run (see test_corpus.py).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_E2E = Path(__file__).resolve().parents[1] / "e2e"
sys.path.insert(0, str(_E2E))

_spec = importlib.util.spec_from_file_location("e2e_conftest", _E2E / "conftest.py")
e2e_conftest = importlib.util.module_from_spec(_spec)
sys.modules["e2e_conftest"] = e2e_conftest
_spec.loader.exec_module(e2e_conftest)

# Registered as this directory's fixtures.
roster_binary = e2e_conftest.roster_binary
start_roster = e2e_conftest.start_roster

import corpus_report  # noqa: E402  (beside this file)


def pytest_terminal_summary(terminalreporter):
    for line in corpus_report.summary_lines():
        terminalreporter.write_line(line)
