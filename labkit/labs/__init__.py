"""The lessons: the notebooks' experiments, scenarios and self-checks.

This layer sits above :class:`labkit.Simulator` and the engine packages
(``core``, ``origin``, ``gateway``, ``transport``, ``inspect``, ``retry``), which
never import it; the widgets and the notebooks call it.

- retry (notebook 03): :data:`EXPERIMENTS` and :func:`run_experiment`, one
  endpoint each; :func:`check_policy`, a policy through the table of
  :data:`POLICY_CHECKS`.
- real retry libraries (notebook 03): :func:`retry_libraries` runs urllib3,
  tenacity, stamina, httpx-retries and backoff, each with its defaults and one
  documented set-up (:data:`LIBRARY_CONFIGS`), against the lab's cases
  (:data:`LIBRARY_CASES`); :func:`retry_library_table` shows the rows.
- the herd (notebook 04): :func:`herd_over_http`, the simulation over real HTTP.
- 511 vs 401 (notebook 02): :data:`SCENARIOS`, :func:`run_scenario` and
  :func:`compare`, the comparison table (:func:`whole` shows it uncut); the seed page's FastAPI handler, which
  answers every exception with 511, as :data:`seed_page_app`,
  :func:`inspect_handler` to run a fix and :func:`check_error_response` to check it.
- the seed page (notebooks 02 and 03): :data:`SEED_PAGE_CLAIMS`, each statement
  the course corrects, quoted exactly, with the correction and its source.
- every exercise: :data:`ANSWER_ME` and :func:`check`, one convention; for an
  answer that is a function, :func:`handler_answer` with
  :data:`ERROR_HANDLER_CONDITIONS` (notebook 02) and :func:`policy_answer` with
  :func:`policy_conditions` (notebook 03).
- the portal's modes (notebook 01b): :func:`survey`, what each kind of client sees,
  and :func:`survey_modes`, the same in every mode; :func:`probe_in_mode`, one
  detector's verdict in a given mode.
- the portal's devices (notebook 01): :func:`device_rows`, each device by name;
  :func:`probe_table`, every connectivity probe captive and signed in.
- a web app behind the portal (notebook 05): :func:`run_cors`, what a script's
  ``fetch()`` reads in Chromium in each mode, with the portal's CORS headers
  off and on (:class:`CorsRow`), shown by :func:`cors_table`.
- real clients behind the portal (notebook 05): :func:`client_matrix` runs curl, wget,
  Chromium, httpx, requests, urllib3, aiohttp and urllib.request in every mode, one
  :class:`ClientRow` each; :func:`collect_rows` gathers the rows of several such runners;
  :func:`client_table`, :func:`after_sign_in_table` and :func:`client_detail` show them.
"""

from ._answers import ERROR_HANDLER_CONDITIONS, handler_answer, policy_answer, policy_conditions
from ._captive import device_rows, probe_in_mode, probe_table
from ._checks import POLICY_CHECKS, PolicyCheck, check_policy
from ._clients import (
    CLIENT_URL,
    CLIENTS,
    ClientRow,
    after_sign_in_table,
    classify_body,
    client_detail,
    client_matrix,
    client_table,
    collect_rows,
    ended_with,
    error_kind,
    missing_clients,
    outcome,
)
from ._cors import CHROMIUM, CORS_MODES, CorsRow, cors_table, run_cors
from ._compare import SCENARIOS, Scenario, Whole, compare, run_scenario, verdict, whole
from ._exercise import ANSWER_ME, Verdict, check
from ._experiments import EXPERIMENTS, Experiment, run_experiment
from ._herd import herd_over_http
from ._libraries import (
    LIBRARIES,
    LIBRARY_CASES,
    LIBRARY_CONFIGS,
    LibraryCase,
    LibraryConfig,
    LibraryRow,
    retry_libraries,
    retry_library_table,
)
from ._seedpage import (
    SEED_PAGE_CLAIMS,
    SeedPageClaim,
    check_error_response,
    error_middleware,
    inspect_handler,
    orders_app,
    problems_of,
    seed_page_app,
    seed_page_error_handler,
)
from ._survey import Sighting, survey, survey_modes

__all__ = [
    "ANSWER_ME",
    "CHROMIUM",
    "CLIENTS",
    "CLIENT_URL",
    "CORS_MODES",
    "ClientRow",
    "CorsRow",
    "ERROR_HANDLER_CONDITIONS",
    "EXPERIMENTS",
    "Experiment",
    "LIBRARIES",
    "LIBRARY_CASES",
    "LIBRARY_CONFIGS",
    "LibraryCase",
    "LibraryConfig",
    "LibraryRow",
    "POLICY_CHECKS",
    "PolicyCheck",
    "SCENARIOS",
    "SEED_PAGE_CLAIMS",
    "Scenario",
    "SeedPageClaim",
    "Sighting",
    "Verdict",
    "Whole",
    "after_sign_in_table",
    "check",
    "check_error_response",
    "check_policy",
    "classify_body",
    "client_detail",
    "client_matrix",
    "client_table",
    "collect_rows",
    "compare",
    "cors_table",
    "device_rows",
    "ended_with",
    "error_kind",
    "error_middleware",
    "handler_answer",
    "herd_over_http",
    "inspect_handler",
    "missing_clients",
    "orders_app",
    "outcome",
    "policy_answer",
    "policy_conditions",
    "probe_in_mode",
    "probe_table",
    "problems_of",
    "retry_libraries",
    "retry_library_table",
    "run_cors",
    "run_experiment",
    "run_scenario",
    "seed_page_app",
    "seed_page_error_handler",
    "survey",
    "survey_modes",
    "verdict",
    "whole",
]
