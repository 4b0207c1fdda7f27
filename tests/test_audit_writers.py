"""Every audit action has a writer, and docs/audit.md ("Who writes each event") names them all.

Static: the product's source is read with :mod:`ast`, nothing runs. A *writer* of an action is
the function whose code names that action (``Action.X``, ``audit.models.Action``), whether it
calls ``audit.services.record`` itself or hands the action to a helper that passes it on
(``accounts.services._record``, ``accounts.steps._record_about_the_person``, ...: found by
following the calls). A reference that only reads events,
``AuditEvent.objects.filter(action=Action.X)``, is not a writer: an ``Action`` member given
as a keyword ``action``/``action__*`` of ``filter``, ``exclude``, ``get`` or ``Q`` is skipped.
So that nobody writes an event the scan cannot see, ``record()`` and those helpers are only
ever given an ``Action`` member or their caller's parameter.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from audit.models import Action

ROOT = Path(__file__).resolve().parent.parent
AUDIT_MD = ROOT / "docs" / "audit.md"
SECTION = "## Who writes each event"
APPS = ("accounts", "permissions", "scripts", "audit", "admin_tools", "staff_portal",
        "keyfax_site", "scim")
CATALOGUE = "audit.models.Action"  # the catalogue itself is not a writer
RECORD = "audit.services.record"
READ_CALLS = {"filter", "exclude", "get", "Q"}  # action=Action.X in these reads events

# Actions in the catalogue that nothing writes yet, and what will write them. An action
# here must have no writer in the code: when it gets one, take it off and document it.
NOT_YET_WRITTEN: dict[str, str] = {}

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
ACTIONS = {action.value: action for action in Action}
MEMBERS = {action.name: action.value for action in Action}


@dataclass(frozen=True)
class Use:
    action: str  # the action's value, e.g. "sign_in"
    writer: str  # dotted path of the function that names it, e.g. "accounts.views.login"
    where: str  # file:line


@dataclass
class Scan:
    uses: list[Use]
    forwarders: dict[str, Slot]  # record() and the helpers that pass an action on to it
    bad_calls: list[str]  # one of those given something other than an Action member


@dataclass(frozen=True)
class Slot:
    """Where a function takes the action: its position and its keyword."""

    position: int | None
    keyword: str


@dataclass(frozen=True)
class Source:
    module: str
    filename: str
    tree: ast.Module
    names: dict[str, str]  # local name -> dotted name: the imports and its own functions


# --- reading the source --------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def parse(source: str, module: str, filename: str, is_package: bool = False) -> Source:
    tree = ast.parse(source, filename)
    package = module.split(".") if is_package else module.split(".")[:-1]
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                head = alias.name.split(".")[0]
                names[alias.asname or head] = alias.name if alias.asname else head
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            source_module = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                names[alias.asname or alias.name] = f"{source_module}.{alias.name}"
    for node in tree.body:
        if isinstance(node, FUNCTIONS):
            names[node.name] = f"{module}.{node.name}"
    return Source(module, filename, tree, names)


def dotted(node: ast.AST, names: dict[str, str]) -> str | None:
    """``Action.SIGN_IN`` -> ``audit.models.Action.SIGN_IN``, through the module's imports."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in names:
        return None
    return ".".join([names[node.id], *reversed(parts)])


def action_of(node: ast.AST, names: dict[str, str]) -> str | None:
    """The action's value when ``node`` names a member of the catalogue."""
    if not isinstance(node, ast.Attribute):
        return None
    name = dotted(node, names)
    if name is None or not name.startswith(CATALOGUE + "."):
        return None
    return MEMBERS.get(name.removeprefix(CATALOGUE + "."))


def given_action(call: ast.Call, slot: Slot) -> ast.AST | None:
    if slot.position is not None and len(call.args) > slot.position:
        return call.args[slot.position]
    return next((k.value for k in call.keywords if k.arg == slot.keyword), None)


def parameter_slot(function: ast.AST | None, name: str) -> Slot | None:
    if not isinstance(function, FUNCTIONS):
        return None
    positional = [p.arg for p in [*function.args.posonlyargs, *function.args.args]]
    if name in positional:
        return Slot(positional.index(name), name)
    if name in {p.arg for p in function.args.kwonlyargs}:
        return Slot(None, name)
    return None


def find_forwarders(sources: list[Source]) -> dict[str, Slot]:
    """``record`` and every module-level function that hands its own parameter to it (or to
    another such function) as the action: ``accounts.services._record``, ..."""
    forwarders = {RECORD: Slot(0, "action")}
    grew = True
    while grew:
        grew = False
        for source in sources:
            for function in source.tree.body:
                path = f"{source.module}.{getattr(function, 'name', '')}"
                if not isinstance(function, FUNCTIONS) or path in forwarders:
                    continue
                for call in ast.walk(function):
                    callee = isinstance(call, ast.Call) and dotted(call.func, source.names)
                    if callee in forwarders:
                        given = given_action(call, forwarders[callee])
                        slot = isinstance(given, ast.Name) and parameter_slot(function, given.id)
                        if slot:
                            forwarders[path], grew = slot, True
                            break
    return forwarders


def scan_module(source: Source, forwarders: dict[str, Slot], scan: Scan) -> None:
    names = source.names

    def names_an_action(arg: ast.AST | None, function: ast.AST | None) -> bool:
        """An Action member (or a choice of two), or the enclosing function's parameter."""
        if isinstance(arg, ast.IfExp):
            return names_an_action(arg.body, function) and names_an_action(arg.orelse, function)
        if isinstance(arg, ast.Name):
            return parameter_slot(function, arg.id) is not None
        return arg is not None and action_of(arg, names) is not None

    def visit(node: ast.AST, scope: list[str], function: ast.AST | None, reading: bool) -> None:
        where = f"{source.filename}:{getattr(node, 'lineno', '?')}"
        action = action_of(node, names)
        if action is not None:
            if not reading:
                scan.uses.append(Use(action, ".".join([source.module, *scope]), where))
            return
        # A class or function is a scope of its own; one nested in a function belongs to the
        # importable function around it.
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and (
                function is None):
            scope = [*scope, node.name]
            function = None if isinstance(node, ast.ClassDef) else node
        if isinstance(node, ast.Call):
            callee = dotted(node.func, names)
            if callee in forwarders:
                given = given_action(node, forwarders[callee])
                if not names_an_action(given, function):
                    scan.bad_calls.append(
                        f"{where}: {callee.rsplit('.', 1)[-1]}() is given "
                        f"{ast.unparse(given) if given else 'no action'}")
            called = node.func.attr if isinstance(node.func, ast.Attribute) else (
                node.func.id if isinstance(node.func, ast.Name) else "")
            if called in READ_CALLS:
                visit(node.func, scope, function, reading)
                for arg in node.args:
                    visit(arg, scope, function, reading)
                for keyword in node.keywords:
                    by_action = keyword.arg is not None and (
                        keyword.arg == "action" or keyword.arg.startswith("action__"))
                    visit(keyword.value, scope, function, reading or by_action)
                return
        for child in ast.iter_child_nodes(node):
            visit(child, scope, function, reading)

    visit(source.tree, [], None, False)


def scan_sources(sources: list[Source]) -> Scan:
    scan = Scan(uses=[], forwarders=find_forwarders(sources), bad_calls=[])
    for source in sources:
        scan_module(source, scan.forwarders, scan)
    return scan


def scan_product() -> Scan:
    sources = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            sources.append(parse(path.read_text(encoding="utf-8"), module_name(path),
                                 str(path.relative_to(ROOT)), path.name == "__init__.py"))
    return scan_sources(sources)


SCAN = scan_product()


def writers_in_code() -> dict[str, dict[str, list[str]]]:
    """action -> writer -> where it names the action."""
    writers: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for use in SCAN.uses:
        writers[use.action][use.writer].append(use.where)
    return writers


# --- reading the docs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    writers: tuple[str, ...]
    text: str  # the "written by" cell as written


def documented_writers() -> dict[str, Row]:
    """action -> its row of the "Who writes each event" table."""
    text = AUDIT_MD.read_text(encoding="utf-8")
    assert f"\n{SECTION}\n" in text, f"docs/audit.md has no section {SECTION!r}"
    section = text.split(f"\n{SECTION}\n")[1].split("\n## ")[0]
    rows: dict[str, Row] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 3, f"docs/audit.md {SECTION}: a row needs 3 cells: {line}"
        for action in re.findall(r"`([^`]+)`", cells[0]):
            assert action not in rows, f"`{action}` has two rows in {SECTION}"
            # one writer per line: `dotted.path`, maybe followed by a note
            found = (re.match(r"`([\w.]+)`", entry.strip()) for entry in cells[1].split("<br>"))
            rows[action] = Row(tuple(m.group(1) for m in found if m), cells[1])
    return rows


def resolve(path: str) -> object:
    """The object a dotted path names (``accounts.services.change_user``), or raise."""
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(path)


CODE = writers_in_code()
DOCS = documented_writers()


# --- the promises --------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(ACTIONS), ids=str)
def test_every_action_has_a_writer(action):
    """(a) Every action in the catalogue is written somewhere (or is known not to be yet)."""
    writers = sorted(CODE.get(action, {}))
    if action in NOT_YET_WRITTEN:
        assert not writers, (
            f"`{action}` is in NOT_YET_WRITTEN ({NOT_YET_WRITTEN[action]}) but is now written "
            f"by {', '.join(writers)}: take it off the list and name its writers in "
            f"docs/audit.md, {SECTION}.")
    else:
        assert writers, (
            f"Nothing writes `{action}`: no function names Action.{ACTIONS[action].name} "
            f"outside a query. Write it, or remove it from the catalogue.")


@pytest.mark.parametrize("action", list(ACTIONS), ids=str)
def test_every_action_has_a_row_in_the_docs(action):
    """(b) docs/audit.md says who writes each action, or that nothing does yet and why."""
    assert action in DOCS, f"`{action}` has no row in docs/audit.md, {SECTION}."
    row = DOCS[action]
    if action in NOT_YET_WRITTEN:
        assert row.text.startswith("not written yet") and not row.writers, (
            f"`{action}` is not written yet ({NOT_YET_WRITTEN[action]}): its row in "
            f"{SECTION} should say \"not written yet: ...\" and name no writer, not "
            f"{row.text!r}.")
    else:
        assert row.writers, f"`{action}`'s row in {SECTION} names no writer: {row.text!r}."


def test_the_docs_and_the_allow_list_name_only_real_actions():
    assert set(DOCS) <= set(ACTIONS), (
        f"{SECTION} has rows for actions not in audit.models.Action: "
        f"{sorted(set(DOCS) - set(ACTIONS))}")
    assert set(NOT_YET_WRITTEN) <= set(ACTIONS), (
        f"NOT_YET_WRITTEN names actions not in audit.models.Action: "
        f"{sorted(set(NOT_YET_WRITTEN) - set(ACTIONS))}")


def test_every_documented_writer_writes_its_action():
    """(c) A function the docs name exists, and still names the action it is said to write."""
    problems = []
    for action, row in sorted(DOCS.items()):
        for writer in row.writers:
            try:
                resolve(writer)
            except (ImportError, AttributeError):
                problems.append(f"`{action}`: the documented writer `{writer}` does not exist.")
                continue
            if writer not in CODE.get(action, {}):
                also = sorted(a for a, found in CODE.items() if writer in found)
                problems.append(
                    f"`{action}`: the documented writer `{writer}` does not write it (it names "
                    f"no Action.{ACTIONS[action].name if action in ACTIONS else '?'} outside "
                    f"a query{'; it writes ' + ', '.join(also) if also else ''}).")
    assert not problems, f"docs/audit.md, {SECTION}:\n" + "\n".join(problems)


def test_every_writer_in_the_code_is_documented():
    """(d) A new writer of an action is named in that action's row."""
    problems = []
    for action, writers in sorted(CODE.items()):
        documented = DOCS.get(action, Row((), "")).writers
        for writer, where in sorted(writers.items()):
            if writer not in documented:
                problems.append(
                    f"`{action}` is written by `{writer}` ({', '.join(where)}), which its row "
                    f"does not name.")
    assert not problems, (
        f"Add these writers to docs/audit.md, {SECTION} (a query that only reads events "
        f"passes the action as filter(action=Action.X)):\n" + "\n".join(problems))


def test_record_and_its_helpers_are_given_an_action_member():
    """Every call of record(), or of a helper that passes its action on to it, names the
    action (or passes on its own caller's): no strings, nothing the scan cannot see."""
    assert not SCAN.bad_calls, (
        "Pass an Action member, so tests/test_audit_writers.py can tell who writes what:\n"
        + "\n".join(SCAN.bad_calls))


def test_the_helpers_that_pass_an_action_on_are_named_in_the_docs():
    section = AUDIT_MD.read_text(encoding="utf-8").split(f"\n{SECTION}\n")[1].split("\n## ")[0]
    helpers = sorted(set(SCAN.forwarders) - {RECORD})
    missing = [helper for helper in helpers if f"`{helper}`" not in section]
    assert not missing, (
        f"docs/audit.md, {SECTION}: name these helpers, which pass an action on to record(): "
        f"{', '.join(missing)}")


# --- the scan itself -----------------------------------------------------------------------


def scan_text(*modules: tuple[str, str]) -> Scan:
    return scan_sources([parse(text, module, module.replace(".", "/") + ".py")
                         for module, text in modules])


def test_the_scan_tells_writes_from_reads():
    scan = scan_text(("somewhere.views", '''
from audit.models import Action as A, AuditEvent
from audit import models
from audit.services import record


def write(request):
    record(A.SIGN_IN, request=request)


def read(user):
    return AuditEvent.objects.filter(action=A.SIGN_OUT, subject=f"user:{user.pk}")


def read_many():
    return AuditEvent.objects.exclude(action__in=[models.Action.USER_CREATED])


class Admin:
    def export(self, request):
        def inner():
            record(models.Action.AUDIT_EXPORTED)
        return inner
'''))

    assert {(use.action, use.writer) for use in scan.uses} == {
        ("sign_in", "somewhere.views.write"),
        ("audit_exported", "somewhere.views.Admin.export"),
    }
    assert scan.bad_calls == []


def test_the_scan_follows_helpers_across_modules():
    scan = scan_text(
        ("somewhere.services", '''
from audit.services import record


def _record(user, action, **detail):
    record(action, subject=f"user:{user.pk}", detail=detail)


def refuse(user, *, action):
    _record(user, action, outcome="refused")
'''),
        ("elsewhere.views", '''
from audit.models import Action
from somewhere import services as people


def delete(user):
    people.refuse(user, action=Action.USER_DELETED)


def bypass(user):
    people._record(user, "user_deleted")
'''),
    )

    assert scan.forwarders == {
        RECORD: Slot(0, "action"),
        "somewhere.services._record": Slot(1, "action"),
        "somewhere.services.refuse": Slot(None, "action"),
    }
    assert [(use.action, use.writer) for use in scan.uses] == [
        ("user_deleted", "elsewhere.views.delete")]
    [bypass] = scan.bad_calls
    assert bypass.startswith("elsewhere/views.py:")
    assert bypass.endswith("_record() is given 'user_deleted'")


def test_the_scan_ignores_other_catalogues_named_action():
    scan = scan_text(("scripts.graph", '''
from scripts.models import Action


def next_step(answer):
    return answer["action"] == Action.GOTO
'''))
    assert scan.uses == []
