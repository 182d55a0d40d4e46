"""The pair page's field markup (pairs/templatetags/form_fields.py): what crispy-forms'
Bootstrap 5 pack wrote, with labels, messages and help tied to their control for screen
readers, and every text escaped."""

from django import forms
from django.template import Context, Template


class Sample(forms.Form):
    name = forms.CharField(label="Your <b>note</b>", help_text="Up to 10 <i>words</i>.")
    size = forms.ChoiceField(choices=[("s", "Small"), ("l", "Large & <tall>")])
    who = forms.ChoiceField(
        label="Who leads", choices=[("a", "Ann <x>"), ("b", "Bo")], widget=forms.RadioSelect
    )
    agree = forms.BooleanField(label="I agree", required=False)
    secret = forms.CharField(widget=forms.HiddenInput, required=False)


def render(form: forms.Form, name: str) -> str:
    return Template("{% load form_fields %}{{ field|field_group }}").render(
        Context({"field": form[name]})
    )


def test_a_text_field_has_its_label_help_and_no_error_when_valid() -> None:
    html = render(Sample(), "name")

    assert '<label for="id_name" class="form-label">Your &lt;b&gt;note&lt;/b&gt;' in html
    assert '<span class="asteriskField">*</span>' in html
    assert 'class="form-control"' in html
    assert 'aria-describedby="id_name_helptext"' in html
    assert (
        '<div id="id_name_helptext" class="form-text">Up to 10 &lt;i&gt;words&lt;/i&gt;.</div>'
        in html
    )
    assert "invalid" not in html


def test_an_invalid_field_says_why_beside_it_and_to_screen_readers() -> None:
    form = Sample(data={"name": "", "size": "xx", "who": ""})
    form.is_valid()

    name, size, who = render(form, "name"), render(form, "size"), render(form, "who")

    assert 'class="form-control is-invalid"' in name
    assert 'aria-invalid="true"' in name
    assert 'aria-describedby="id_name_helptext id_name_error"' in name
    assert '<div id="id_name_error" class="invalid-feedback d-block">' in name
    assert "<strong>This field is required.</strong>" in name
    assert 'class="form-select is-invalid"' in size
    assert "Select a valid choice." in size
    assert 'class="form-check-input is-invalid"' in who
    assert 'aria-describedby="id_who_error"' in who


def test_radio_buttons_are_a_fieldset_with_a_legend_and_keep_the_choice() -> None:
    html = render(Sample(initial={"who": "b"}), "who")

    assert html.startswith('<fieldset id="div_id_who" class="mb-3"><legend')
    assert "Who leads" in html
    assert '<label class="form-check-label" for="id_who_0">Ann &lt;x&gt;</label>' in html
    assert 'value="b" id="id_who_1" checked' in html
    assert 'value="a" id="id_who_0" checked' not in html


def test_a_checkbox_and_a_hidden_field() -> None:
    checkbox = render(Sample(initial={"agree": True}), "agree")
    hidden = render(Sample(), "secret")

    assert '<div id="div_id_agree" class="form-check">' in checkbox
    assert 'class="form-check-input"' in checkbox
    assert "checked" in checkbox
    assert '<label for="id_agree" class="form-check-label">I agree</label>' in checkbox
    assert hidden == '<input type="hidden" name="secret" id="id_secret">'


def test_select_options_are_escaped() -> None:
    assert "Large &amp; &lt;tall&gt;" in render(Sample(), "size")
