from django import forms


class ResendLinkForm(forms.Form):
    email = forms.EmailField(
        label="Your e-mail address",
        max_length=254,
        help_text="The address the programme writes to you at, usually your work address.",
        error_messages={
            "required": "Enter your e-mail address.",
            "invalid": "Enter an e-mail address in the form name@example.org.",
            "max_length": "An e-mail address has at most 254 characters.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_email(self) -> str:
        # EmailField has already stripped it; addresses are matched case-insensitively.
        return self.cleaned_data["email"].lower()
