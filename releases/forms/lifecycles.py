"""The lifecycle form and its phase editor (a formset of phases)."""

from django import forms

from ..models import Environment, Lifecycle
from ..selectors import environment_list
from ..services import PhaseSpec
from . import SLUG_HELP


class LifecycleForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.SlugField(max_length=100, required=False, help_text=SLUG_HELP)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    retention_releases = forms.IntegerField(
        min_value=0,
        initial=0,
        required=False,
        label="Keep the last releases",
        help_text="Per project; 0 turns this rule off.",
    )
    retention_days = forms.IntegerField(
        min_value=0,
        initial=0,
        required=False,
        label="Keep releases of the last days",
        help_text="0 turns this rule off. With both off, every release is kept. A release "
        "deployed now, or the one before it, is never deleted.",
    )

    def clean_retention_releases(self) -> int:
        return self.cleaned_data["retention_releases"] or 0  # left blank: the rule is off

    def clean_retention_days(self) -> int:
        return self.cleaned_data["retention_days"] or 0

    @classmethod
    def for_lifecycle(cls, lifecycle: Lifecycle, data=None) -> "LifecycleForm":
        return cls(data, initial={name: getattr(lifecycle, name) for name in cls.base_fields})


class PhaseForm(forms.Form):
    """One phase of the phase editor. Order and removal come from the formset (ORDER, DELETE).

    Environments are plain choices built from one list shared by every phase form, so the page
    costs one query for them however many phases it shows. Which environments a phase may name
    (each once per lifecycle) is the lifecycle service's rule, shown above the phases.
    """

    name = forms.CharField(max_length=100)
    is_optional = forms.BooleanField(
        required=False, label="Optional phase", help_text="Releases may skip it."
    )
    minimum_environments = forms.IntegerField(
        min_value=0,
        initial=0,
        label="Minimum environments",
        help_text="Successes needed before the next phase; 0 = all.",
    )
    environments = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    automatic_environments = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Deploy automatically",
    )

    def __init__(self, *args, environments: list[Environment] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.by_id = {env.pk: env for env in environments}
        choices = [(env.pk, env.name) for env in environments]
        self.fields["environments"].choices = choices
        self.fields["automatic_environments"].choices = choices

    def environment_rows(self):
        """Pairs of checkboxes (in the phase, deploy automatically), one per environment."""
        return list(zip(self["environments"], self["automatic_environments"], strict=True))

    def spec(self) -> PhaseSpec:
        data = self.cleaned_data
        return PhaseSpec(
            name=data["name"],
            environments=[self.by_id[i] for i in data["environments"]],
            automatic_environments=[self.by_id[i] for i in data["automatic_environments"]],
            is_optional=data["is_optional"],
            minimum_environments=data["minimum_environments"],
        )


class BasePhaseFormSet(forms.BaseFormSet):
    # The phase editor's script moves and removes phases and fills these in.
    ordering_widget = forms.HiddenInput
    deletion_widget = forms.HiddenInput

    def __init__(self, *args, **kwargs):
        self.environments = list(environment_list())
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"environments": self.environments}

    def forms_in_order(self) -> list[PhaseForm]:
        """The forms as the user arranged them, so a page shown again keeps that order."""

        def position(item):
            index, form = item
            try:
                return (int(form["ORDER"].value()), index)
            except (TypeError, ValueError):
                return (len(self.forms) + 1, index)

        return [form for _, form in sorted(enumerate(self.forms), key=position)]

    def specs(self) -> list[PhaseSpec]:
        """The phases in the order the user left them, removed ones left out."""
        return [form.spec() for form in self.ordered_forms]


PhaseFormSet = forms.formset_factory(
    PhaseForm, formset=BasePhaseFormSet, extra=0, can_order=True, can_delete=True
)


def phase_initial(lifecycle: Lifecycle) -> list[dict]:
    """Initial data of the phase editor for a stored lifecycle (prefetched phases)."""
    initial = []
    for phase in lifecycle.phases.all():
        pes = list(phase.phase_environments.all())
        initial.append(
            {
                "name": phase.name,
                "is_optional": phase.is_optional,
                "minimum_environments": phase.minimum_environments,
                "environments": [pe.environment_id for pe in pes],
                "automatic_environments": [pe.environment_id for pe in pes if pe.automatic],
            }
        )
    return initial
