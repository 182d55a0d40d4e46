"""The programme's form in the admin: its minimum group may only be stricter than the
organisation's (programmes/organisation.py)."""

from typing import Any

from django import forms

from programmes.models import Programme
from programmes.organisation import check_programme_min_group, organisation_min_group


class ProgrammeAdminForm(forms.ModelForm):
    class Meta:
        model = Programme
        # The admin's fieldsets name the rest (ModelAdmin.get_form passes them).
        fields = ["min_group_size"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("min_group_size")
        if field is not None:
            floor = organisation_min_group()
            field.help_text = (
                f"{field.help_text} The organisation's minimum is {floor}: this programme may "
                "ask for more, never fewer."
            )

    def clean_min_group_size(self) -> int:
        value: int = self.cleaned_data["min_group_size"]
        # Only a value being set is checked: a programme whose minimum was the floor before an
        # organisation administrator raised it is lifted to the new floor anyway, and must
        # not be refused for a field nobody touched.
        if "min_group_size" in self.changed_data:
            check_programme_min_group(value)
        return value
