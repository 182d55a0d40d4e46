"""Checks on a programme manager's wording before it is saved, so that a message never fails
to send, or says more than it should, because of an edit in the admin.

A wording passes when it compiles as a Django template; uses only Django's built-in tags and
filters (no ``{% load %}``, and nothing that reaches other templates, such as ``{% include %}``
or ``{% extends %}``); reads only what its kind declares (notifications/kinds.py): its
variables, and of each record exactly the attributes listed there (``partner.full_name``,
``meeting.topic.title``), plus what its own ``{% for %}``, ``{% with %}`` and ``as``
introduce; and renders with the sample data. In the HTML body, what people typed stays
escaped (no ``|safe``, no ``{% autoescape off %}``). Anything else is refused with a message
naming the expression and what its variable offers.

The names are found by walking the compiled template against the kind's declaration, not by
rendering it, so an expression inside a branch the sample data does not take is checked too.
This is the first of two locks: what is rendered is built from the declaration alone
(notifications.schema.context_project), so even a wording saved before a check existed
cannot reach further.
"""

from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.template import Template, Variable
from django.template.base import (
    FilterExpression,
    Lexer,
    Node,
    NodeList,
    TextNode,
    TokenType,
    VariableNode,
)
from django.template.defaulttags import (
    AutoEscapeControlNode,
    CommentNode,
    CycleNode,
    FilterNode,
    FirstOfNode,
    ForNode,
    IfChangedNode,
    IfNode,
    NowNode,
    ResetCycleNode,
    SpacelessNode,
    TemplateLiteral,
    TemplateTagNode,
    URLNode,
    VerbatimNode,
    WidthRatioNode,
    WithNode,
)
from django.utils import translation

from notifications.kinds import KINDS
from notifications.models import MessageTemplate
from notifications.rendering import render_from
from notifications.samples import MissingSample, sample_context
from notifications.schema import VALUE, Fields, ListOf, Row, Schema, offers

# Tags that would reach other templates or tag libraries, or show the whole context.
REFUSED_TAGS = {
    "load": (
        "only Django's built-in tags and filters can be used. Times are already shown in "
        "the recipient's time zone, so no {% timezone %} tag is needed"
    ),
    "include": "a message cannot use other templates",
    "extends": "a message cannot use other templates",
    "block": "a message cannot use other templates",
    "ssi": "a message cannot use other files",
    "debug": "it would show everything the message is built from",
}
ALLOWED_NODES = (
    TextNode,
    VariableNode,
    IfNode,
    ForNode,
    WithNode,
    AutoEscapeControlNode,
    CommentNode,
    FilterNode,
    FirstOfNode,
    NowNode,
    SpacelessNode,
    TemplateTagNode,
    URLNode,
    VerbatimNode,
    WidthRatioNode,
    CycleNode,
    ResetCycleNode,
    IfChangedNode,
)
# Filters whose argument is a path of attributes the checks cannot see.
REFUSED_FILTERS = {"dictsort", "dictsortreversed"}
# In HTML, names and reasons typed by people must stay escaped.
UNESCAPING_FILTERS = {"safe", "safeseq"}
ALWAYS_DEFINED = {"True", "False", "None"}
FORLOOP_VALUES = ("counter", "counter0", "revcounter", "revcounter0", "first", "last")
# Filters that hand back what they were given, or one item of a list.
SAME_FILTERS = {"default", "default_if_none", "slice"}
ITEM_FILTERS = {"first", "last", "random"}


class _Unknown:
    """A value the checks cannot know in advance (``{% firstof … as x %}``); nothing can
    be looked up in it."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
# Bound from an expression already reported: its names are not reported a second time.
REPORTED = _Unknown()


def _tag_of(node: Node) -> str:
    token = getattr(node, "token", None)
    return token.split_contents()[0] if token is not None else type(node).__name__


def refused_tags(source: str) -> list[str]:
    """Refused tags, found in the source before it is compiled: ``{% load nothing %}`` is
    refused for what it is rather than reported as a missing library."""
    problems = []
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.BLOCK or not token.contents.split():
            continue
        tag = token.contents.split()[0]
        if tag in REFUSED_TAGS:
            problems.append(f"{{% {tag} %}} cannot be used in a message: {REFUSED_TAGS[tag]}.")
    return list(dict.fromkeys(problems))


class _Walker:
    """Walks a compiled wording with, in scope, each name's schema (what it offers): the
    kind's variables, and what loops, ``with`` and ``as`` bind."""

    def __init__(self, placeholders: Mapping[str, Schema] | None, *, html: bool) -> None:
        self.placeholders = placeholders
        self.html = html
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)

    # --- Nodes ------------------------------------------------------------------------------

    def nodelist(self, nodes: Iterable[Node], scope: dict[str, Any], *, layer: bool) -> None:
        """``layer``: the tag pushes a new context layer (for, with), so names set with
        ``as`` inside it end with it; inside an if they outlive it, as in Django."""
        scope = dict(scope) if layer else scope
        for node in nodes:
            self.node(node, scope)

    def node(self, node: Node, scope: dict[str, Any]) -> None:
        if not isinstance(node, ALLOWED_NODES):
            self.problem(f"{{% {_tag_of(node)} %}} cannot be used in a message.")
            return
        for kind, walk in _WALKS:
            if isinstance(node, kind):
                walk(self, node, scope)
                break
        else:
            for expression in self.expressions_of(node):
                self.expression(expression, scope)
        # {% url … as x %}, {% now … as x %}, {% widthratio … as x %} make text; what
        # {% firstof … as x %} and {% cycle … as x %} hold depends on the data.
        name = getattr(node, "asvar", None) or getattr(node, "variable_name", None)
        if name:
            scope[name] = UNKNOWN if isinstance(node, FirstOfNode | CycleNode) else VALUE

    def variable_node(self, node: VariableNode, scope: dict[str, Any]) -> None:
        self.expression(node.filter_expression, scope)

    def if_node(self, node: IfNode, scope: dict[str, Any]) -> None:
        for condition, nodelist in node.conditions_nodelists:
            if condition is not None:
                self.condition(condition, scope)
            self.nodelist(nodelist, scope, layer=False)

    def for_node(self, node: ForNode, scope: dict[str, Any]) -> None:
        sequence = self.expression(node.sequence, scope)
        forloop = Fields(
            dict.fromkeys(FORLOOP_VALUES, VALUE) | {"parentloop": scope.get("forloop", Fields({}))}
        )
        # Parsed, a ForNode holds a list of names and NodeLists (the stubs allow more).
        loopvars = cast(list[str], node.loopvars)
        inner = scope | self.loop_bindings(loopvars, sequence) | {"forloop": forloop}
        self.nodelist(cast(NodeList, node.nodelist_loop), inner, layer=True)
        self.nodelist(cast(NodeList, node.nodelist_empty), scope, layer=True)

    def with_node(self, node: WithNode, scope: dict[str, Any]) -> None:
        values = {
            name: self.expression(expression, scope)
            for name, expression in node.extra_context.items()
        }
        self.nodelist(node.nodelist, scope | values, layer=True)

    def autoescape_node(self, node: AutoEscapeControlNode, scope: dict[str, Any]) -> None:
        if self.html and not node.setting:
            self.problem(
                "{% autoescape off %} cannot be used in the HTML body: what people typed "
                "(names, reasons) must stay escaped."
            )
        self.nodelist(node.nodelist, scope, layer=False)

    def filter_node(self, node: FilterNode, scope: dict[str, Any]) -> None:
        self.filters(node.filter_expr, scope)
        self.nodelist(node.nodelist, scope, layer=False)

    def spaceless_node(self, node: SpacelessNode, scope: dict[str, Any]) -> None:
        self.nodelist(node.nodelist, scope, layer=False)

    def ifchanged_node(self, node: IfChangedNode, scope: dict[str, Any]) -> None:
        for expression in node._varlist:  # type: ignore[attr-defined]  # not in the stubs
            self.expression(expression, scope)
        self.nodelist(node.nodelist_true, scope, layer=False)
        self.nodelist(node.nodelist_false, scope, layer=False)

    @staticmethod
    def expressions_of(node: Node) -> list[FilterExpression]:
        if isinstance(node, FirstOfNode):
            return list(node.vars)
        if isinstance(node, CycleNode):
            return list(node.cyclevars)
        if isinstance(node, URLNode):
            return [node.view_name, *node.args, *node.kwargs.values()]
        if isinstance(node, WidthRatioNode):
            return [node.val_expr, node.max_expr, node.max_width]
        return []

    @staticmethod
    def loop_bindings(names: list[str], sequence: Any) -> dict[str, Any]:
        if sequence is REPORTED:
            return dict.fromkeys(names, REPORTED)
        item: Any = sequence.item if isinstance(sequence, ListOf) else UNKNOWN
        if len(names) == 1:
            return {names[0]: item}
        if isinstance(item, Row) and len(item.items) == len(names):
            return dict(zip(names, item.items, strict=True))
        return dict.fromkeys(names, UNKNOWN)

    def condition(self, condition: Any, scope: dict[str, Any]) -> None:
        if isinstance(condition, TemplateLiteral):
            self.expression(condition.value, scope)
            return
        for part in (condition.first, condition.second):
            if part is not None:
                self.condition(part, scope)

    # --- Expressions ------------------------------------------------------------------------

    def expression(self, expression: Any, scope: dict[str, Any]) -> Any:
        """Checks ``{{ a.b|f:c }}``; returns the schema of its value when all of it is
        allowed, REPORTED when it is not, UNKNOWN when it cannot be known."""
        if not isinstance(expression, FilterExpression):
            return UNKNOWN
        before = len(self.problems)
        if isinstance(expression.var, Variable):
            value = self.variable(expression.var, scope)
        else:
            value = VALUE  # a literal: {{ "text" }}, {{ 3 }}
        self.filters(expression, scope)
        if len(self.problems) > before:
            return REPORTED
        for function, _arguments in expression.filters:
            name = getattr(function, "_filter_name", function.__name__)
            if name in ITEM_FILTERS and isinstance(value, ListOf):
                value = value.item
            elif name not in SAME_FILTERS:
                value = UNKNOWN
        return value

    def filters(self, expression: FilterExpression, scope: dict[str, Any]) -> None:
        for function, arguments in expression.filters:
            name = getattr(function, "_filter_name", function.__name__)
            if name in REFUSED_FILTERS:
                self.problem(f"The |{name} filter cannot be used in a message.")
            if self.html and name in UNESCAPING_FILTERS:
                self.problem(
                    f"The |{name} filter cannot be used in the HTML body: what people typed "
                    "(names, reasons) must stay escaped."
                )
            for is_variable, argument in arguments:
                if is_variable:
                    self.variable(argument, scope)

    def variable(self, variable: Variable, scope: dict[str, Any]) -> Any:
        if variable.lookups is None:
            return VALUE
        root, *rest = variable.lookups
        if root in scope:
            value = scope[root]
        elif root in ALWAYS_DEFINED or self.placeholders is None:
            return UNKNOWN  # no kind chosen: the form says so, and names wait for it
        elif root in self.placeholders:
            value = self.placeholders[root]
        else:
            self.problem(
                f"Unknown placeholder {{{{ {root} }}}}: this message can use "
                f"{', '.join(self.placeholders)}."
            )
            return UNKNOWN
        if value is REPORTED:
            return REPORTED
        whole, root_schema = ".".join(variable.lookups), value
        for index, segment in enumerate(rest, start=1):
            owner = ".".join(variable.lookups[:index])
            if value is UNKNOWN:
                # Nothing to check the lookup against, so nothing vouches for it.
                self.problem(
                    f"{{{{ {whole} }}}} cannot be used in a message: what {owner} stands for "
                    "depends on the data, so only what the message offers can be shown."
                )
                return UNKNOWN
            value = self.step(value, segment)
            if value is None:
                self.problem(
                    f"{{{{ {whole} }}}} cannot be used in this message: "
                    f"{_offer(root_schema, root)}."
                )
                return REPORTED
        return value

    @staticmethod
    def step(schema: Any, segment: str) -> Schema | None:
        """What ``.segment`` of ``schema`` offers; None when it offers nothing by that name."""
        if isinstance(schema, Fields):
            return schema.fields.get(segment)
        if isinstance(schema, ListOf) and segment.isdigit():
            return schema.item
        if isinstance(schema, Row) and segment.isdigit() and int(segment) < len(schema.items):
            return schema.items[int(segment)]
        return None


# Each tag with a body or expressions of its own, and how the walker reads it; any other
# allowed tag is read through ``expressions_of``.
_WALKS: tuple[tuple[type[Node], Any], ...] = (
    (VariableNode, _Walker.variable_node),
    (IfNode, _Walker.if_node),
    (ForNode, _Walker.for_node),
    (WithNode, _Walker.with_node),
    (AutoEscapeControlNode, _Walker.autoescape_node),
    (FilterNode, _Walker.filter_node),
    (SpacelessNode, _Walker.spaceless_node),
    (IfChangedNode, _Walker.ifchanged_node),
)


def _offer(schema: Any, root: str) -> str:
    if schema is VALUE:
        return f"{root} is a plain value (text, a number, a date or a link), with no details"
    if isinstance(schema, Fields | ListOf | Row):
        return f"{root} offers {', '.join(offers(schema, root))}"
    return f"{root} offers nothing to look into"


def wording_problems(
    source: str, *, kind: str | None, field: str = "body_text", language: str = ""
) -> list[str]:
    """What is wrong with one ``field`` of a wording (``subject``, ``body_text`` or
    ``body_html``), in words a programme manager can act on; empty when it can be saved.
    ``kind`` None (not chosen, or not known any more) checks everything but the names."""
    problems = refused_tags(source)
    if problems:
        return problems
    try:
        template = Template(source)
    except Exception as error:  # a TemplateSyntaxError, or a built-in tag's own complaint
        return [f"This template does not work: {error}"]
    placeholders = cast(Mapping[str, Schema], KINDS[kind].placeholders) if kind in KINDS else None
    walker = _Walker(placeholders, html=field == "body_html")
    walker.nodelist(template.nodelist, {}, layer=True)
    if walker.problems or kind not in KINDS:
        return walker.problems
    try:
        context = sample_context(kind)
    except MissingSample:
        return []
    # Rendered exactly as a send would render it, so what passes here sends.
    row = MessageTemplate(kind=kind, language=language, subject="", body_text="")
    setattr(row, field, source)
    try:
        with translation.override(language or None):
            render_from(row, context)
    except Exception as error:
        return [f"This template does not work with the sample data: {error}"]
    return []
