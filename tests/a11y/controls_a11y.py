#!/usr/bin/python3
"""Walks the accessible tree of the workbench's main window and of its dialogs (Settings,
Edit and retry) and sets every choice picker, spin box and text field over AT-SPI, checking
that each widget took the value, then puts the old value back. A combo box that cannot be
set this way (no editable text inside) fails the test: that is what the choice picker
fixed.

Usage: controls_a11y.py path/to/taskbench [taskbench args...] (through run_a11y.sh).
"""

import sys

import pyatspi

from atspi_harness import (
    Failure,
    children,
    choose,
    describe_rows,
    description,
    find,
    find_all,
    has_state,
    interfaces,
    log,
    name,
    picker_choice,
    picker_entries,
    press,
    press_nowait,
    role,
    run,
    set_text,
    set_value,
    table_rows,
    text_of,
    value_of,
    wait_for,
    walk,
)


def enabled(acc):
    return has_state(acc, pyatspi.STATE_ENABLED) or has_state(acc, pyatspi.STATE_SENSITIVE)


def label(acc):
    return f"{role(acc)} {name(acc)!r}"


def picker_fields(root, where):
    out = []
    for combo in find_all(root, "combo box"):
        fields = [c for c in children(combo) if role(c) == "text"]
        if not fields or "EditableText" not in interfaces(fields[0]):
            raise Failure(f"{where}: combo box {name(combo)!r} has no editable text: its "
                          "choice cannot be set over AT-SPI (use the choice picker)")
        if not name(fields[0]):
            raise Failure(f"{where}: a picker's text field has no accessible name "
                          f"(combo showing {name(combo)!r})")
        out.append(fields[0])
    return out


def check_pickers(root, where):
    # Choosing may rebuild part of a form (another function, other argument fields), so
    # each picker is looked up again by its name and position among equally named ones.
    names = [name(f) for f in picker_fields(root, where)]
    checked = 0
    for i, picker_name in enumerate(names):
        nth = names[:i].count(picker_name)
        same = [f for f in picker_fields(root, where) if name(f) == picker_name]
        if nth >= len(same):
            continue  # it went away with a rebuilt form
        field = same[nth]
        if not enabled(field.parent):
            continue
        before = picker_choice(field)
        entries = picker_entries(field)
        others = [e for e in entries if e != before]
        if before is None or not others:
            raise Failure(f"{where}: picker {picker_name!r}: choice {before!r}, entries "
                          f"{entries}: nothing else to choose")
        target = others[-1]
        set_text(field, target)
        wait_for(f"{where}: picker {picker_name!r} to choose {target!r}",
                 lambda: picker_choice(field) == target,
                 describe=lambda: description(field))
        # Text that names no entry is shown but not committed.
        set_text(field, "no such entry")
        wait_for(f"{where}: picker {picker_name!r} to refuse unknown text",
                 lambda: "No entry matches" in description(field),
                 describe=lambda: description(field))
        set_text(field, before)
        wait_for(f"{where}: picker {picker_name!r} back to {before!r}",
                 lambda: picker_choice(field) == before,
                 describe=lambda: description(field))
        log(f"  picker {picker_name!r}: {before!r} -> {target!r} -> back ({len(entries)} "
            "entries)")
        checked += 1
    return checked


def check_spin_boxes(root, where):
    checked = 0
    for spin in find_all(root, "spin button"):
        if not enabled(spin) or "Value" not in interfaces(spin):
            if "Value" not in interfaces(spin):
                raise Failure(f"{where}: spin box {name(spin)!r} has no Value interface")
            continue
        v = spin.queryValue()
        before, low, high = v.currentValue, v.minimumValue, v.maximumValue
        target = before + 1 if before + 1 <= high else low
        set_value(spin, target)
        wait_for(f"{where}: spin box {name(spin)!r} to take {target}",
                 lambda: value_of(spin) == target,
                 describe=lambda: value_of(spin))
        set_value(spin, before)
        wait_for(f"{where}: spin box {name(spin)!r} back to {before}",
                 lambda: value_of(spin) == before)
        log(f"  spin box {name(spin)!r}: {before:g} -> {target:g} -> back")
        checked += 1
    return checked


def check_text_fields(root, where):
    checked = 0
    for field in find_all(root, "text"):
        parent = field.parent
        if role(parent) in ("combo box", "spin button"):
            continue  # pickers and spin boxes are checked as such
        if not has_state(field, pyatspi.STATE_EDITABLE) or not enabled(field):
            continue
        if "EditableText" not in interfaces(field):
            raise Failure(f"{where}: editable {label(field)} has no EditableText interface")
        if not name(field):
            raise Failure(f"{where}: a text field has no accessible name "
                          f"(text {text_of(field)!r})")
        before = text_of(field)
        target = "a11y-check"
        set_text(field, target)
        wait_for(f"{where}: text field {name(field)!r} to take {target!r}",
                 lambda: text_of(field) == target,
                 describe=lambda: repr(text_of(field)))
        set_text(field, before)
        wait_for(f"{where}: text field {name(field)!r} back to {before!r}",
                 lambda: text_of(field) == before)
        log(f"  text field {name(field)!r}: {before!r} -> {target!r} -> back")
        checked += 1
    return checked


def check_all(root, where, minimum):
    log(f"{where}: setting every picker, spin box and text field")
    counts = (check_pickers(root, where), check_spin_boxes(root, where),
              check_text_fields(root, where))
    log(f"{where}: {counts[0]} pickers, {counts[1]} spin boxes, {counts[2]} text fields")
    for kind, count, least in zip(("pickers", "spin boxes", "text fields"), counts, minimum):
        if count < least:
            raise Failure(f"{where}: only {count} {kind} could be checked, expected >= {least}")


def dialog(app, title):
    return wait_for(f"the {title!r} dialog",
                    lambda: next((w for w in app.windows()
                                  if role(w) == "dialog" and name(w) == title), None))


def gone(app, window):
    return lambda: all(w != window for w in app.windows() if role(w) == "dialog")


def check_settings_dialog(app):
    press_nowait(find(app.window, "push button", "Settings"))
    dlg = dialog(app, "Settings")
    check_all(dlg, "Settings dialog", (2, 3, 3))
    press(find(dlg, "push button", "Cancel"))
    wait_for("the Settings dialog to close", gone(app, dlg))


def check_edit_retry_dialog(app):
    win = app.window
    log("Submit bench.fail to get an error for the Edit and retry dialog")
    choose(win, "Function", "bench.fail")
    press(find(win, "push button", "Submit"))
    tree = find(win, ("tree table", "table", "tree"), "Errors")

    def error_row():
        for i, row in enumerate(table_rows(tree)):
            if any("bench.fail" in v for v in row.values()):
                return i + 1  # +1: zero is false
        return None

    row = wait_for("the bench.fail error in the Errors panel", error_row,
                   describe=lambda: table_rows(tree)) - 1
    tree.queryTable().addRowSelection(row)
    edit = find(win, "push button", "Edit and retry")
    wait_for("Edit and retry to be enabled", lambda: enabled(edit))
    press_nowait(edit)
    dlg = wait_for("the Edit and retry dialog",
                   lambda: next((w for w in app.windows() if role(w) == "dialog"), None))
    check_all(dlg, f"dialog {name(dlg)!r}", (1, 0, 1))
    press(find(dlg, "push button", "Cancel"))
    wait_for("the Edit and retry dialog to close", gone(app, dlg))


def main(app):
    win = app.window
    # Functions are loaded when the pickers list them.
    wait_for("functions in the submit form",
             lambda: len(picker_entries(find(win, "text", "Function"))) > 3)
    # The submit form shows an argument field for inc(x) (a spin box, a value/future picker).
    choose(win, "Function", "bench.add")
    check_all(win, "main window", (6, 6, 4))
    check_settings_dialog(app)
    check_edit_retry_dialog(app)
    rows = table_rows(find(win, "table", "Futures"))
    log(f"futures at the end: {describe_rows(rows)}")
    if not any(w for w in walk(win) if role(w) == "combo box"):
        raise Failure("no pickers found at all")


if __name__ == "__main__":
    sys.exit(run(main))
