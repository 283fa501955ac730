"""Factories for project variables (scopes are set with ``environments=[...]``)."""

import factory

from releases.models import Variable, VariableScope
from tests.releases.factories import ProjectFactory


class VariableFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variable
        skip_postgeneration_save = True  # scopes are rows of their own; the variable is saved

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Var{n}")
    type = Variable.Type.TEXT
    value = "value"
    sort_order = factory.Sequence(lambda n: n)

    @factory.post_generation
    def environments(self, create, extracted, **kwargs):
        for env in extracted or ():
            VariableScope.objects.create(variable=self, environment=env)
