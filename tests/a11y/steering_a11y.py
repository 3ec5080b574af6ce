#!/usr/bin/python3
"""Steers a running cluster in the real workbench over AT-SPI, as a screen reader user would
(issue #19's scenario): map tutorial.inc over 0..20 on the 2 workers, toggle "Pause cluster"
on the toolbar while it runs, select the last five rows of the Futures table, "Raise
priority" from the Cluster menu, resume, and read from the table's Started column that those
five started before every other task still queued at the pause; then "Add breakpoint…" on tutorial.add, submit the tutorial's
x = inc(1), y = inc(2), z = add(x, y), see z "held", open "Edit held arguments…" and read
its inputs as 2 and 3, and release it with them: z finishes with 5.

Usage: steering_a11y.py path/to/taskbench [taskbench args...] (through run_a11y.sh).
"""

import sys

import pyatspi

from atspi_harness import (
    Failure,
    choose,
    describe_rows,
    find,
    has_state,
    log,
    name,
    press,
    role,
    run,
    select_rows,
    selected_rows,
    set_text,
    set_value,
    table_rows,
    text_of,
    value_of,
    wait_for,
)

RAISED = 5


def futures(win):
    return table_rows(find(win, "table", "Futures"))


def rows_of(win, function):
    return [r for r in futures(win) if r.get("Function") == function]


def menu_item(win, accessible_name):
    return find(win, "menu item", accessible_name, what=f"the menu item {accessible_name!r}")


def last_action(win):
    return text_of(find(win, "label", "Last action"))


def dialog(app, title):
    return wait_for(
        f"the {title!r} dialog",
        lambda: next(
            (w for w in app.windows() if role(w) == "dialog" and name(w) == title), None
        ),
        describe=lambda: [(role(w), name(w)) for w in app.windows()],
    )


def seconds(started):
    """hh:mm:ss.zzz (the Started column) in seconds."""
    h, m, s = started.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def pause_toggle(win):
    return find(win, "check box", None,
                pred=lambda a: name(a) in ("Pause cluster", "Resume cluster")
                and role(a.parent) == "tool bar",
                what="the toolbar's Pause cluster toggle")


def pause_raise_resume(app):
    win = app.window
    log("Map form: tutorial.inc over 0..20")
    choose(win, "Map function", "tutorial.inc")
    choose(win, "Inputs from", "Range or list")
    set_text(find(win, "text", "x values", what="the map form's x values field"), "0..20")
    wait_for("the task count preview", lambda: "21 tasks" in text_of(
        find(win, "label", "Task count preview")))
    press(find(win, "push button", "Map"))
    wait_for("21 tutorial.inc futures", lambda: len(rows_of(win, "tutorial.inc")) == 21,
             describe=lambda: describe_rows(rows_of(win, "tutorial.inc")))

    toggle = pause_toggle(win)
    log("Toolbar: toggle Pause cluster while the map runs")
    press(toggle, ("Toggle", "Press"))
    wait_for("the toggle to be checked", lambda: has_state(toggle, pyatspi.STATE_CHECKED))
    paused = find(win, "label", "Cluster paused")
    wait_for("the status bar to say paused", lambda: text_of(paused) == "paused",
             describe=lambda: repr(text_of(paused)))
    # Running tasks finish; once none runs, nothing starts until resume: the tasks that
    # started before the pause are known for certain.
    wait_for("the tasks running at the pause to finish",
             lambda: all(r["Status"] in ("pending", "finished")
                         for r in rows_of(win, "tutorial.inc")),
             describe=lambda: describe_rows(rows_of(win, "tutorial.inc")))
    before = {r["Key"] for r in rows_of(win, "tutorial.inc") if r["Status"] != "pending"}
    log(f"  {len(before)} started before the pause")

    table = find(win, "table", "Futures")
    rows = futures(win)
    last = list(range(len(rows) - RAISED, len(rows)))
    log(f"Futures table: select rows {last[0]}..{last[-1]}, Cluster > Raise priority")
    select_rows(table, last)
    raised = {rows[r]["Key"] for r in last}
    if raised & before:
        raise Failure("the last five had started before the pause: "
                      + describe_rows(rows_of(win, "tutorial.inc")))
    press(menu_item(win, "Raise priority"), ("Press",))
    wait_for("the priority change to be reported", lambda: "Priority" in last_action(win)
             and "5 task" in last_action(win), describe=lambda: repr(last_action(win)))
    log(f"  {last_action(win)}")
    if any(r["Status"] != "pending" for r in rows_of(win, "tutorial.inc")
           if r["Key"] not in before):
        raise Failure("a task started while the cluster was paused: "
                      + describe_rows(rows_of(win, "tutorial.inc")))

    log("Toolbar: toggle again to resume")
    press(toggle, ("Toggle", "Press"))
    wait_for("the toggle to be unchecked",
             lambda: not has_state(toggle, pyatspi.STATE_CHECKED))
    wait_for(
        "all 21 tutorial.inc futures to finish (1 s each on 2 workers)",
        lambda: all(r["Status"] == "finished" for r in rows_of(win, "tutorial.inc")),
        describe=lambda: describe_rows(rows_of(win, "tutorial.inc")),
    )
    done = [r for r in rows_of(win, "tutorial.inc") if r["Key"] not in before]
    # Of the tasks queued at the pause, on two workers at 1 s per task: the raised five start
    # at 0, 0, 1, 1 and 2 s, the others
    # from 2 s on. The fifth raised and the first other start in the same round (on the two
    # workers, a few ms apart either way), so allow 0.3 s there; nothing else may come first.
    first = max(seconds(r["Started"]) for r in done if r["Key"] in raised)
    others = min(seconds(r["Started"]) for r in done if r["Key"] not in raised)
    order = sorted(done, key=lambda r: seconds(r["Started"]))
    if first > others + 0.3 or any(r["Key"] not in raised for r in order[:RAISED - 1]):
        raise Failure("the raised five did not start first: "
                      + "; ".join(f"{r['Key']} {r['Started']}"
                                  + (" (raised)" if r["Key"] in raised else "")
                                  for r in order[:8]))
    results = sorted(int(r["Result"]) for r in done if r["Key"] in raised)
    log(f"  the raised five (results {results}) started by {first:.3f} s, "
        f"the others from {others:.3f} s")


def submit(win, function, fields):
    """Submits through the Submit form; fields maps a parameter to an int or a future key."""
    choose(win, "Function", function)
    for param, value in fields.items():
        if isinstance(value, str):
            choose(win, f"{param} source", "Future")
            set_text(find(win, "text", f"{param} future key"), value)
        else:
            choose(win, f"{param} source", "Value")
            spin = find(win, "spin button", param, what=f"the submit form's {param} field")
            set_value(spin, value)
            wait_for(f"{param} to be {value}", lambda: value_of(spin) == float(value))
    # Submit answers in Last action and selects the future's row (a pure call the map
    # already made answers with that future).
    said = last_action(win)
    press(find(win, "push button", "Submit"))
    wait_for(f"Submit of {function}{tuple(fields.values())} to be answered",
             lambda: last_action(win) != said, describe=lambda: repr(last_action(win)))
    table = find(win, "table", "Futures")
    rows = wait_for("one selected row", lambda: selected_rows(table)
                    if len(selected_rows(table)) == 1 else None)
    key = futures(win)[rows[0]]["Key"]
    if key not in last_action(win):
        raise Failure(f"Last action {last_action(win)!r} does not name the selected {key}")
    for param, value in fields.items():
        if isinstance(value, str):
            choose(win, f"{param} source", "Value")
    return key


def status_of(win, key):
    return next((r["Status"] for r in futures(win) if r["Key"] == key), None)


def breakpoint_on_add(app):
    win = app.window
    log("Cluster > Add breakpoint…: function tutorial.add")
    press(menu_item(win, "Add breakpoint…"), ("Press",))
    box = dialog(app, "Add breakpoint")
    choose(box, "Break on", "Function")
    set_text(find(box, "text", "Breakpoint pattern"), "tutorial.add")
    press(find(box, "push button", "Add breakpoint"))
    wait_for("the breakpoint to be reported",
             lambda: "function tutorial.add" in last_action(win),
             describe=lambda: repr(last_action(win)))

    log("Submit x = inc(1), y = inc(2), z = add(x, y)")
    x = submit(win, "tutorial.inc", {"x": 1})
    y = submit(win, "tutorial.inc", {"x": 2})
    z = submit(win, "tutorial.add", {"x": x, "y": y})
    wait_for(f"z ({z}) to be held", lambda: status_of(win, z) == "held",
             describe=lambda: describe_rows(futures(win)))

    log("Select z, Cluster > Edit held arguments…: its inputs are 2 and 3")
    table = find(win, "table", "Futures")
    row = next(i for i, r in enumerate(futures(win)) if r["Key"] == z)
    select_rows(table, [row])
    press(menu_item(win, "Edit held arguments…"), ("Press",))
    edit = dialog(app, "Edit held arguments")
    shown = {}
    for param in ("x", "y"):
        spin = find(edit, "spin button", param, what=f"the held task's {param} field")
        shown[param] = value_of(spin)
    if shown != {"x": 2.0, "y": 3.0}:
        raise Failure(f"z's inputs shown as {shown}, expected x = 2 and y = 3")
    log(f"  z = add({int(shown['x'])}, {int(shown['y'])}); release with them")
    press(find(edit, "push button", "Release with these arguments"))
    wait_for("z to finish with 5",
             lambda: next((r for r in futures(win) if r["Key"] == z), {}).get("Result") == "5",
             describe=lambda: describe_rows(futures(win)))
    log("  z finished: 5")


def main(app):
    pause_raise_resume(app)
    breakpoint_on_add(app)
    if role(app.window) != "frame":
        raise Failure("the main window went away")


if __name__ == "__main__":
    sys.exit(run(main))
