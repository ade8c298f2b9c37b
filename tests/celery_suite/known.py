"""Why some of Celery's integration tests may fail, by pytest node id (run.py reads this).

LOSSY: tests that assert what json loses on the way (a tuple arrives as a list, ...). They
pass on json and fail on kombu_dash, which keeps the type: the gate accepts that, and only
that, for these tests. Each entry names the assertion.

ENVIRONMENT: tests that fail on json too, here and in CI, for reasons outside kombu_dash.
The gate requires a reason for every test that fails in the json baseline.
"""

from __future__ import annotations

LOSSY: dict[str, str] = {
    "t/integration/test_canvas.py::test_chain::test_groupresult_serialization": "asserts isinstance(result[0][1], list) on a task's return value built from "
    "GroupResult.as_tuple(): as_tuple() makes tuples, json hands them back as lists, "
    "kombu_dash as the tuples the task returned",
    "t/integration/test_inspect.py::test_Inspect::test_active": "asserts the task's 'args' in `inspect active` are [5]: the worker's request.args is "
    "the tuple (5,), which json turns into a list and kombu_dash keeps",
    "t/integration/test_inspect.py::test_Inspect::test_query_task": "asserts `inspect query_task` replies ['active', {... 'args': [5] ...}]: the worker "
    "replies with the tuple ('active', request.info()) holding args (5,); json lists "
    "both, kombu_dash keeps both tuples",
}

#: Tests the gate runs whatever they take (run.py leaves out the slow ones otherwise): the
#: ones that caught kombu_dash bugs (issue 10), and the whole of test_inspect.py, since
#: control replies are where Celery sends its own types.
ALWAYS_RUN: dict[str, str] = {
    "t/integration/test_inspect.py": "every control reply (stats holds a collections.Counter)",
    "t/integration/test_canvas.py::test_chain::test_complex_chain": "a group built from a generator (celery.utils.functional._regen) in a chain",
    "t/integration/test_canvas.py::test_chain::test_group_chord_group_chain": "the same",
    "t/integration/test_canvas.py::test_group::test_parent_ids": "the same",
}

#: Why some tests fail now and then, on either serializer: the gate re-runs a failure on a
#: clean Redis, on kombu_dash and on json, and counts it only if kombu_dash fails again while
#: json passes. Shown next to such a test when it happens.
TIMING: dict[str, str] = {
    "t/integration/test_inspect.py::test_Inspect::test_scheduled": "Celery 5.3, in the gate's subset: test_canvas's test_link_error_callback_retries "
    "leaves retry_once scheduled 180 s ahead (Celery's default retry delay); with the "
    "slow tests left out, test_scheduled comes before it runs and finds it in the list",
    "t/integration/test_tasks.py::test_task_replacement::test_replaced_task_nesting_level_0": "a race in the test: it resets its flag after .delay(), so a worker that receives "
    "the task first (an idle one, as in a re-run) has its result overwritten",
}

ENVIRONMENT: dict[str, str] = {
    "t/integration/test_tasks.py::test_tasks::test_revoked_by_headers_complex_canvas": "its own @pytest.mark.timeout(20) is shorter than its eleven canvases of sleeping "
    "tasks take on the suite's one-process worker; Celery 5.3 has no timeout there and "
    "its result.get() waits forever, stopped by pytest.ini's per-test timeout",
    "t/integration/test_tasks.py::test_trace_log_arguments::test_task_success": "caplog receives none of the worker's 'Task ... received' records in this harness "
    "(the assertion sees an empty list on json as well)",
    "t/integration/test_tasks.py::test_trace_log_arguments::test_task_failed": "caplog receives none of the worker's 'Task ... received' records in this harness "
    "(the assertion sees an empty list on json as well)",
    "t/integration/test_canvas.py::test_chord::test_chain_to_a_chord_with_large_header": "timing: a chord with a 1000-task header on a one-process worker against a 60 s "
    "result timeout; timed out on json in one of two full runs here",
    "t/integration/test_tasks.py::test_tasks::test_task_accepted": "timing, in teardown: Manager.wait_until_idle's inspect().active() had no reply "
    "within its 1 s timeout while the one-process worker ran the test's second sleeping "
    "task, and Celery 5.3's harness does not handle the None (on json)",
}
