"""Drives the real Taskbench main window over AT-SPI, the way a screen reader or any
assistive tool does: it finds widgets by role and accessible name, sets text, values and
choices through the accessibility interfaces, presses buttons by their actions and reads
tables cell by cell. Nothing here touches the app's internals.

The app runs on the X display of the caller (run_a11y.sh gives it a private Xvfb, D-Bus
session and AT-SPI bus) with a private HOME, so its settings and history start fresh.
Every wait polls for a state with a deadline; a failed wait says what it waited for and
what it last saw.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pyatspi
from gi.repository import Atspi, GLib

WAIT = float(os.environ.get("TASKBENCH_A11Y_WAIT", "60"))

# Containers whose children are cells or popup entries: walked only when asked.
CELL_CONTAINERS = {"table", "tree table", "tree", "list", "list box", "menu", "page tab list"}


class Failure(Exception):
    """A check failed; the message says what was expected and what was seen."""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def wait_for(what, predicate, timeout=WAIT, interval=0.05, describe=None):
    """Polls predicate() until it returns something true; returns that value."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (GLib.Error, RuntimeError, AttributeError, LookupError) as e:
            last_error = e  # objects vanish while the GUI rebuilds them: try again
        if time.monotonic() > deadline:
            seen = ""
            if describe:
                try:
                    seen = f"; last seen: {describe()}"
                except Exception as e:  # noqa: BLE001 - only for the message
                    seen = f"; (could not describe: {e})"
            if last_error:
                seen += f"; last error: {last_error}"
            raise Failure(f"timed out after {timeout:.0f} s waiting for {what}{seen}")
        time.sleep(interval)


def role(acc):
    try:
        return acc.getRoleName()
    except GLib.Error:
        return "?"


def name(acc):
    try:
        return acc.name or ""
    except GLib.Error:
        return ""


def description(acc):
    try:
        return acc.description or ""
    except GLib.Error:
        return ""


def children(acc):
    try:
        n = acc.childCount
    except GLib.Error:
        return []
    out = []
    for i in range(n):
        try:
            c = acc.getChildAtIndex(i)
        except GLib.Error:
            continue
        if c is not None:
            out.append(c)
    return out


def walk(root, into_cells=False):
    """Every accessible below root, depth first (not into table cells or popups)."""
    stack = [root]
    while stack:
        acc = stack.pop()
        yield acc
        if acc is not root and not into_cells and role(acc) in CELL_CONTAINERS:
            continue
        stack.extend(reversed(children(acc)))


def find_all(root, roles=None, name_is=None, pred=None):
    if isinstance(roles, str):
        roles = {roles}
    out = []
    for acc in walk(root):
        if roles and role(acc) not in roles:
            continue
        if name_is is not None and name(acc) != name_is:
            continue
        if pred and not pred(acc):
            continue
        out.append(acc)
    return out


def find(root, roles, name_is=None, pred=None, what=None):
    """Waits for the first accessible of these roles (and name) below root."""
    label = what or f"{roles} named {name_is!r}"

    def look():
        found = find_all(root, roles, name_is, pred)
        return found[0] if found else None

    return wait_for(label, look)


def interfaces(acc):
    try:
        return set(pyatspi.listInterfaces(acc))
    except GLib.Error:
        return set()


def states(acc):
    try:
        return acc.getState()
    except GLib.Error:
        return None


def has_state(acc, state):
    s = states(acc)
    return bool(s and s.contains(state))


def text_of(acc):
    """The text of a text field (Text interface); of a named label, its description (the
    workbench puts a named label's text there: Qt 6.4 gives such labels no Text
    interface); else the name."""
    if "Text" in interfaces(acc):
        t = acc.queryText()
        return t.getText(0, t.characterCount)
    if role(acc) == "label" and description(acc):
        return description(acc)
    return name(acc)


def set_text(acc, value):
    acc.queryEditableText().setTextContents(value)


def press(acc, action_names=("Press", "press", "click", "Click", "Toggle", "toggle")):
    """Performs the button's press action (as a screen reader's activate does)."""
    act = acc.queryAction()
    names = [act.getName(i) for i in range(act.nActions)]
    for wanted in action_names:
        if wanted in names:
            if not act.doAction(names.index(wanted)):
                raise Failure(f"action {wanted} of {role(acc)} {name(acc)!r} refused")
            return
    raise Failure(f"{role(acc)} {name(acc)!r} has no press action (actions: {names})")


def press_nowait(acc, action="Press"):
    """Presses a button that opens a modal dialog. Qt answers DoAction only when the action
    returns, i.e. after the dialog closes, so the call is made with a short timeout and the
    late answer is ignored."""
    Atspi.set_timeout(1000, -1)
    try:
        press(acc, (action,))
    except GLib.Error as e:
        if "imeout" not in str(e) and "NoReply" not in str(e):
            raise
    finally:
        Atspi.set_timeout(-1, -1)


def set_value(acc, value):
    acc.queryValue().currentValue = float(value)


def value_of(acc):
    return acc.queryValue().currentValue


# --- tables ----------------------------------------------------------------------------


def table_headers(table):
    t = table.queryTable()
    heads = []
    for c in range(t.nColumns):
        h = t.getColumnHeader(c)
        heads.append(name(h) if h is not None else f"column {c}")
    return heads


def table_rows(table):
    """The table's rows as dicts keyed by column header text."""
    t = table.queryTable()
    heads = table_headers(table)
    rows = []
    for r in range(t.nRows):
        row = {}
        for c, h in enumerate(heads):
            cell = t.getAccessibleAt(r, c)
            row[h] = name(cell) if cell is not None else ""
        rows.append(row)
    return rows


def selected_rows(table):
    return list(table.queryTable().getSelectedRows())


def select_rows(table, rows):
    """Makes exactly these rows the table's selection (Qt's tables have no Selection
    interface over AT-SPI; their Table interface adds and removes rows)."""
    t = table.queryTable()
    for r in selected_rows(table):
        if r not in rows and not t.removeRowSelection(r):
            raise Failure(f"the {name(table)!r} table refused to unselect row {r}")
    for r in rows:
        if not t.addRowSelection(r):
            raise Failure(f"the {name(table)!r} table refused to select row {r}")
    wait_for(f"rows {rows} of {name(table)!r} to be selected",
             lambda: selected_rows(table) == sorted(rows),
             describe=lambda: selected_rows(table))


def describe_rows(rows, columns=("Key", "Function", "Status", "Result", "Attempts")):
    if not rows:
        return "no rows"
    return "; ".join(" ".join(str(r.get(c, "")) for c in columns) for r in rows[:12]) + (
        f" (+{len(rows) - 12} more)" if len(rows) > 12 else ""
    )


# --- pickers ---------------------------------------------------------------------------


def picker(root, accessible_name):
    """The text field of the choice picker with this accessible name (the combo box itself
    is named by its current text on Linux; its text field carries the name)."""
    return find(
        root,
        "text",
        accessible_name,
        pred=lambda a: role(a.parent) == "combo box",
        what=f"the {accessible_name!r} picker",
    )


def picker_choice(field):
    """The committed choice, from the picker's description ("X chosen. ...")."""
    d = description(field)
    return d.split(" chosen.")[0] if " chosen." in d else None


def picker_entries(field):
    combo = field.parent
    for c in children(combo):
        if role(c) == "list":
            return [name(i) for i in children(c)]
    return []


def choose(root, accessible_name, entry):
    field = picker(root, accessible_name)
    set_text(field, entry)
    wait_for(
        f"{accessible_name!r} to choose {entry!r}",
        lambda: picker_choice(field) == entry,
        describe=lambda: f"text {text_of(field)!r}, description {description(field)!r}",
    )
    return field


# --- the app ---------------------------------------------------------------------------


def xvfb_report():
    """What the display's Xvfb said (run_a11y.sh names its log), for a failed start."""
    path = os.environ.get("TASKBENCH_A11Y_XVFB_LOG")
    if not path:
        return ""
    try:
        with open(path, errors="replace") as f:
            text = f.read().strip()
    except OSError as e:
        text = f"(unreadable: {e})"
    return f"\nXvfb on {os.environ.get('DISPLAY')} said: {text or '(nothing)'}"


class App:
    """Starts build/bin/taskbench with a fresh private HOME and finds it on the bus."""

    def __init__(self, binary, args=(), title="Taskbench"):
        self.home = tempfile.mkdtemp(prefix="taskbench-a11y-")
        env = dict(os.environ)
        env.pop("QT_QPA_PLATFORM", None)  # the Xvfb display, not offscreen
        runtime = os.path.join(self.home, "run")
        os.makedirs(runtime, mode=0o700)
        env.update(
            HOME=self.home,
            XDG_CONFIG_HOME=os.path.join(self.home, "config"),
            XDG_DATA_HOME=os.path.join(self.home, "data"),
            XDG_CACHE_HOME=os.path.join(self.home, "cache"),
            XDG_RUNTIME_DIR=runtime,
            QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1",
            QT_ACCESSIBILITY="1",
            TASKBENCH_PLUGIN_PATH="",
        )
        env.pop("TASKBENCH_HISTORY_DB", None)
        self.log_path = os.path.join(self.home, "taskbench.log")
        self.log_file = open(self.log_path, "w")
        log(f"starting {binary} {' '.join(args)} (HOME={self.home})")
        self.proc = subprocess.Popen(
            [binary, *args],
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.app = wait_for("the app on the accessibility bus", self._find_app)
        self.window = wait_for(
            f"the {title!r} main window",
            lambda: next(
                (w for w in children(self.app) if role(w) == "frame" and name(w) == title), None
            ),
        )

    def _find_app(self):
        if self.proc.poll() is not None:
            raise Failure(
                f"taskbench exited with {self.proc.returncode}:\n{self.output()}{xvfb_report()}"
            )
        desktop = pyatspi.Registry.getDesktop(0)
        for i in range(desktop.childCount):
            a = desktop.getChildAtIndex(i)
            try:
                if a is not None and a.get_process_id() == self.proc.pid and a.childCount:
                    return a
            except GLib.Error:
                continue
        return None

    def windows(self):
        return children(self.app)

    def output(self):
        self.log_file.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()[-6000:]

    def close(self):
        """Ends the app and its worker processes (its own process group), always."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # leftover workers
        except ProcessLookupError:
            pass
        self.log_file.close()


def _terminated(signum, _frame):
    raise Failure(f"stopped by signal {signum} (overall timeout)")


def run(main):
    """Runs main(app) and turns failures into a message and exit code 1. The app is always
    ended, also on SIGTERM and when the overall bound (TASKBENCH_A11Y_TOTAL, 220 s) is hit."""
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/bin/taskbench"
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGALRM, _terminated)
    signal.alarm(int(os.environ.get("TASKBENCH_A11Y_TOTAL", "220")))
    start = time.monotonic()
    app = None
    try:
        app = App(binary, sys.argv[2:])
        main(app)
    except Exception as e:  # noqa: BLE001 - every failure is reported the same way
        kind = "" if isinstance(e, Failure) else f"{type(e).__name__}: "
        print(f"FAIL: {kind}{e}", file=sys.stderr)
        if not isinstance(e, Failure):
            import traceback

            traceback.print_exc()
        if app:
            print(f"--- taskbench output (tail) ---\n{app.output()}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        if app:
            app.close()
            shutil.rmtree(app.home, ignore_errors=True)
    log(f"passed in {time.monotonic() - start:.1f} s")
    return 0
