"""``{{ form.field|field_group }}``: a form field as Bootstrap 5 markup, written in Python.

The pair page shows two forms on every visit (proposing an agreement, writing a note), and
crispy-forms' ``as_crispy_field`` renders each field through a dozen nested templates: about a
sixth of the page's time (docs/performance.md, "Pair page"). This filter writes the same
markup as crispy-forms' Bootstrap 5 pack (label, widget with ``is-invalid``, the message
beside it with its id, help text, and the ``aria-invalid`` / ``aria-describedby`` Django adds)
without them. Radio buttons are a fieldset with a legend, each choice a ``form-check``.
"""

from django import forms, template
from django.forms import BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

WIDGET_CLASS = {
    forms.Select: "form-select",
    forms.CheckboxInput: "form-check-input",
}


def _widget_class(field: BoundField) -> str:
    widget = field.field.widget
    name = next(
        (css for kind, css in WIDGET_CLASS.items() if isinstance(widget, kind)), "form-control"
    )
    return f"{name} is-invalid" if field.errors else name


def _errors(field: BoundField) -> SafeString:
    if not field.errors:
        return mark_safe("")
    return format_html(
        '<div id="{}_error" class="invalid-feedback d-block">{}</div>',
        field.auto_id,
        format_html_join(
            "",
            '<p id="error_{}_{}" class="mb-0"><strong>{}</strong></p>',
            ((n, field.auto_id, error) for n, error in enumerate(field.errors, start=1)),
        ),
    )


def _help(field: BoundField) -> SafeString:
    if not field.help_text:
        return mark_safe("")
    return format_html(
        '<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text
    )


def _required(field: BoundField) -> SafeString:
    if not field.field.required:
        return mark_safe("")
    return mark_safe('<span class="asteriskField">*</span>')


def _described_by(field: BoundField) -> str:
    """The ids of the help text and the message, which a screen reader reads with the
    control."""
    return " ".join(
        f"{field.auto_id}_{part}"
        for part, present in (("helptext", field.help_text), ("error", field.errors))
        if present
    )


def _radios(field: BoundField) -> SafeString:
    described = _described_by(field)
    choices = []
    for choice in field.subwidgets:
        attrs = choice.data["attrs"]
        choices.append(
            format_html(
                '<div class="form-check"><input type="radio" class="{}" name="{}" value="{}" '
                'id="{}"{}{}{}><label class="form-check-label" for="{}">{}</label></div>',
                "form-check-input is-invalid" if field.errors else "form-check-input",
                choice.data["name"],
                choice.data["value"],
                attrs["id"],
                mark_safe(" checked") if choice.data["selected"] else "",
                mark_safe(" required") if attrs.get("required") else "",
                format_html(' aria-describedby="{}"', described) if described else "",
                attrs["id"],
                choice.data["label"],
            )
        )
    return format_html(
        '<fieldset id="div_{}" class="mb-3"><legend class="form-label fs-6">{}{}</legend>'
        "{}{}{}</fieldset>",
        field.auto_id,
        field.label,
        _required(field),
        mark_safe("".join(choices)),  # noqa: S308 (each part escaped by format_html)
        _errors(field),
        _help(field),
    )


@register.filter
def field_group(field: BoundField) -> SafeString:
    """The field with its label, messages and help, as crispy-forms' Bootstrap 5 pack writes
    it."""
    widget = field.field.widget
    if widget.is_hidden:
        return SafeString(field.as_widget())
    if isinstance(widget, forms.RadioSelect):
        return _radios(field)
    attrs: dict[str, str | bool] = {"class": _widget_class(field)}
    if described := _described_by(field):
        attrs["aria-describedby"] = described
    control = field.as_widget(attrs=attrs)
    if isinstance(widget, forms.CheckboxInput):
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check">{}'
            '<label for="{}" class="form-check-label">{}{}</label>{}{}</div></div>',
            field.auto_id,
            control,
            field.id_for_label,
            field.label,
            _required(field),
            _errors(field),
            _help(field),
        )
    return format_html(
        '<div id="div_{}" class="mb-3"><label for="{}" class="form-label">{}{}</label>{}{}{}</div>',
        field.auto_id,
        field.id_for_label,
        field.label,
        _required(field),
        control,
        _errors(field),
        _help(field),
    )
