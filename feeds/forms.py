"""The feed form. Its rules (fields per type, defaults) live in ``feeds.services``."""

from django import forms

from deployserver.core.models import AwsAccount

from .models import Feed


class FeedForm(forms.Form):
    """Create or edit a feed. The password is never rendered back into the page."""

    name = forms.CharField(max_length=100)
    feed_type = forms.ChoiceField(label="Type", choices=Feed.FeedType.choices)
    account = forms.ModelChoiceField(
        label="AWS account",
        queryset=AwsAccount.objects.order_by("name"),
        required=False,
        empty_label="Choose an account",
    )
    region = forms.CharField(
        max_length=32, required=False, help_text="Blank: the account's default region."
    )
    registry_id = forms.CharField(
        label="Registry ID",
        max_length=12,
        required=False,
        help_text="Another account's registry (12 digits); blank for the account's own.",
    )
    url = forms.CharField(
        label="Registry URL",
        max_length=300,
        required=False,
        help_text="For example https://registry-1.docker.io, https://ghcr.io or http://127.0.0.1:5000.",
    )
    username = forms.CharField(max_length=200, required=False, help_text="Blank: anonymous.")
    password = forms.CharField(
        max_length=1000,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="A password or an access token.",
    )

    ECR_FIELDS = ("account", "region", "registry_id")
    DOCKER_FIELDS = ("url", "username", "password")

    def __init__(self, *args, feed: Feed | None = None, **kwargs):
        if feed is not None:
            initial = {name: getattr(feed, name) for name in self.base_fields if name != "password"}
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        # Shown as required; only the submitted type's one is checked (the service decides).
        self.fields["account"].required = self.data.get("feed_type", "aws-ecr") == "aws-ecr"
        self.fields["url"].required = self.data.get("feed_type", "docker-registry") == (
            "docker-registry"
        )
        if feed is not None and feed.password:
            self.fields["password"].help_text = (
                "Leave blank to keep the stored password. Changing the URL or the username "
                "clears it unless you enter it again."
            )

    def ecr_fields(self):
        return [self[name] for name in self.ECR_FIELDS]

    def docker_fields(self):
        return [self[name] for name in self.DOCKER_FIELDS]
