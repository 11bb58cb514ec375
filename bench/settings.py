"""Gaitu's settings plus the floor views the benchmarks compare against."""

from webapp.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
