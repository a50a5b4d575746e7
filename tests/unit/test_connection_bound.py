"""The most database connections the system can open is fixed by the template, and fits the database."""

from __future__ import annotations

import math

from storywink.local.connection_bound import connection_bound, connections_per_container, function_bounds
from storywink.local.template import repo_root

TEMPLATE = repo_root() / "template.yaml"
DB_T4G_MEDIUM_MAX_CONNECTIONS = 400


def test_every_function_that_reads_the_database_has_a_concurrency_limit():
    unbounded = [bound.function for bound in function_bounds(TEMPLATE) if math.isinf(bound.containers)]
    assert unbounded == []


def test_each_container_opens_one_connection():
    assert connections_per_container() == 1


def test_the_bound_is_the_sum_of_the_functions_limits_and_fits_the_database():
    bounds = function_bounds(TEMPLATE)
    assert {b.function for b in bounds} >= {"ApiFunction", "StoryWorkerFunction", "IllustrationWorkerFunction", "LeaseSweeperFunction"}
    assert connection_bound(TEMPLATE) == sum(b.containers for b in bounds)
    assert connection_bound(TEMPLATE) < DB_T4G_MEDIUM_MAX_CONNECTIONS


def test_the_bound_follows_the_template_parameters():
    assert connection_bound(TEMPLATE, {"ApiConcurrency": 10}) == connection_bound(TEMPLATE) - 90
