#!/usr/bin/python3
"""Replays the Dask futures tutorial in the real workbench over AT-SPI, as a screen reader
user would: pick tutorial.inc, enter 1, Submit and read 2 from the Futures table; submit the
same pure call again and still see one future; map tutorial.flaky_inc over 0..9 (not pure),
find "You hit the error!" in the Errors panel and press "Retry all failed" until nothing is
left failed; scale the cluster from the Workers panel.

Usage: tutorial_a11y.py path/to/taskbench [taskbench args...] (run it through run_a11y.sh,
which provides the display and the accessibility bus).
"""

import sys

import pyatspi

from atspi_harness import (
    Failure,
    choose,
    describe_rows,
    find,
    find_all,
    has_state,
    log,
    name,
    press,
    press_nowait,
    role,
    run,
    selected_rows,
    set_text,
    set_value,
    table_rows,
    text_of,
    value_of,
    wait_for,
)

FLAKY_MESSAGE = "You hit the error!"


def futures(win):
    return table_rows(find(win, "table", "Futures"))


def rows_of(win, function):
    return [r for r in futures(win) if r.get("Function") == function]


def button(win, accessible_name):
    return find(win, "push button", accessible_name)


def submit_tutorial_inc(app):
    win = app.window
    log("Submit form: choose tutorial.inc, x = 1, press Submit")
    choose(win, "Function", "tutorial.inc")
    # The form rebuilt its fields for inc(x): the spin box named x.
    x = find(win, "spin button", "x", what="the submit form's x field")
    set_value(x, 1)
    wait_for("x to be 1", lambda: value_of(x) == 1.0)
    press(button(win, "Submit"))

    table = find(win, "table", "Futures")

    def finished_with_two():
        rows = rows_of(win, "tutorial.inc")
        return rows and rows[0].get("Status") == "finished" and rows[0].get("Result") == "2"

    wait_for(
        "tutorial.inc(1) to show result 2 in the Futures table",
        finished_with_two,
        describe=lambda: describe_rows(futures(win)),
    )
    rows = futures(win)
    if len(rows) != 1:
        raise Failure(f"expected one future, saw {describe_rows(rows)}")
    # Submit reported where it went: the new future's row is selected.
    wait_for(
        "the new future's row to be selected",
        lambda: selected_rows(table) == [0],
        describe=lambda: f"selected rows {selected_rows(table)}",
    )
    key = rows[0]["Key"]
    log(f"  {key}: finished, result 2 (row selected)")

    log("Submit the same pure call again: still one future")
    last_action = find(win, "label", "Last action")
    press(button(win, "Submit"))
    # The second answer names the same key, already finished (the first was pending).
    wait_for(
        "the second Submit to be reported",
        lambda: key in text_of(last_action) and "(finished)" in text_of(last_action),
        describe=lambda: repr(text_of(last_action)),
    )
    rows = futures(win)
    if len(rows) != 1 or rows[0]["Key"] != key:
        raise Failure(f"a pure resubmit made another future: {describe_rows(rows)}")
    log(f"  still one future ({key}); announced: {text_of(last_action)!r}")


def map_flaky(app):
    win = app.window
    log("Map form: choose tutorial.flaky_inc over 0..9, not pure, no retries")
    choose(win, "Map function", "tutorial.flaky_inc")
    choose(win, "Inputs from", "Range or list")
    values = find(win, "text", "i values", what="the map form's i values field")
    set_text(values, "0..9")
    wait_for("the task count preview", lambda: "10 tasks" in text_of(
        find(win, "label", "Task count preview")))
    pure = find(win, "check box", "Pure map")
    if has_state(pure, pyatspi.STATE_CHECKED):
        press(pure, ("Toggle", "Press"))
    wait_for("Pure map to be unchecked", lambda: not has_state(pure, pyatspi.STATE_CHECKED))
    retries = find(win, "spin button", "Map retries")
    set_value(retries, 0)

    map_button = button(win, "Map")
    erred = []
    for attempt in range(1, 7):
        before = len(rows_of(win, "tutorial.flaky_inc"))
        press(map_button)

        def all_done():
            rows = rows_of(win, "tutorial.flaky_inc")
            return len(rows) == before + 10 and all(
                r["Status"] in ("finished", "error") for r in rows
            )

        wait_for(
            f"map {attempt}: 10 more tutorial.flaky_inc futures, all done",
            all_done,
            describe=lambda: describe_rows(rows_of(win, "tutorial.flaky_inc")),
        )
        rows = rows_of(win, "tutorial.flaky_inc")
        erred = [r for r in rows if r["Status"] == "error"]
        log(f"  map {attempt}: {len(rows)} futures, {len(erred)} erred")
        if erred:
            break
        # Each task fails with probability 0.2: 10 clean tasks happen (p = 0.11); map again.
    if not erred:
        raise Failure("six maps of 10 flaky tasks never failed (p < 2e-6)")
    return erred


def errors_panel_cells(win):
    tree = find(win, ("tree table", "table", "tree"), "Errors")
    return [v for row in table_rows(tree) for v in row.values()]


def retry_until_clean(app):
    win = app.window
    log(f"Errors panel: look for {FLAKY_MESSAGE!r}")
    wait_for(
        f"{FLAKY_MESSAGE!r} in the Errors panel",
        lambda: any(FLAKY_MESSAGE in c for c in errors_panel_cells(win)),
        describe=lambda: errors_panel_cells(win)[:20],
    )
    retry_all = next(
        (b for b in find_all(win, "push button", "Retry all failed")), None
    ) or button(win, "Retry all failed")
    for round_ in range(1, 31):
        erred = {r["Key"]: int(r["Attempts"] or 0) for r in rows_of(win, "tutorial.flaky_inc")
                 if r["Status"] == "error"}
        if not erred:
            log(f"  nothing left failed after {round_ - 1} retr{'y' if round_ == 2 else 'ies'}")
            return
        log(f"  round {round_}: {len(erred)} failed; press Retry all failed, then Yes")
        press_nowait(retry_all)  # it asks first, in a modal message box
        box = wait_for(
            "the Retry all failed question",
            lambda: next((w for w in app.windows()
                          if role(w) in ("dialog", "alert") and name(w) == "Retry all failed"),
                         None),
            describe=lambda: [(role(w), name(w)) for w in app.windows()],
        )
        press(find(box, "push button", "Yes"))
        wait_for("the question to close",
                 lambda: all(name(w) != "Retry all failed" or role(w) == "push button"
                             for w in app.windows()))

        def retried():
            rows = {r["Key"]: r for r in rows_of(win, "tutorial.flaky_inc")}
            return all(
                k in rows
                and int(rows[k]["Attempts"] or 0) > attempts
                and rows[k]["Status"] in ("finished", "error")
                for k, attempts in erred.items()
            )

        wait_for(
            f"the {len(erred)} failed futures to run again",
            retried,
            describe=lambda: describe_rows(
                [r for r in rows_of(win, "tutorial.flaky_inc") if r["Key"] in erred]
            ),
        )
    raise Failure("30 rounds of Retry all failed left failures (p < 1e-20)")


def scale_cluster(app):
    win = app.window
    workers_table = find(win, "table", "Workers table")

    def worker_count():
        return len(table_rows(workers_table))

    wait_for("workers in the Workers panel", worker_count, describe=worker_count)
    now = worker_count()
    target = now + 1
    log(f"Workers panel: scale from {now} to {target} workers")
    spin = find(win, "spin button", "Number of workers")
    set_value(spin, target)
    wait_for(f"the spin box to show {target}", lambda: value_of(spin) == float(target))
    press(button(win, "Scale cluster"))
    wait_for(
        f"{target} workers in the Workers table",
        lambda: worker_count() == target,
        describe=worker_count,
    )
    status = find(win, "label", "Workers", what="the status bar's workers label")
    wait_for(
        f"the status bar to say {target} workers",
        lambda: text_of(status).startswith(f"{target} workers"),
        describe=lambda: repr(text_of(status)),
    )
    log(f"  {target} workers ({text_of(status)})")


def main(app):
    submit_tutorial_inc(app)
    map_flaky(app)
    retry_until_clean(app)
    scale_cluster(app)
    if role(app.window) != "frame":
        raise Failure("the main window went away")


if __name__ == "__main__":
    sys.exit(run(main))
