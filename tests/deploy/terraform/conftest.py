"""Moto servers for the Terraform tests: one per test module, stopped by PID after it."""

import pytest

from tfrun import Moto


@pytest.fixture(scope="module")
def plain_moto():
    server = Moto(enforce_iam=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def iam_moto():
    server = Moto(enforce_iam=True)
    yield server
    server.stop()
