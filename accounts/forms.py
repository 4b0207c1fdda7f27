from django import forms


class PasswordSignInForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(
        attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(strip=False, max_length=200, widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}))
