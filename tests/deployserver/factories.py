"""Factories for the core models. Rows are written directly: tests of rules call the services."""

import factory
from django.contrib.auth import get_user_model

from deployserver.core.models import AwsAccount

SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "user-pass-1")


class AwsAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AwsAccount

    name = factory.Sequence(lambda n: f"Account {n}")
    slug = factory.Sequence(lambda n: f"account-{n}")
    access_key_id = factory.Sequence(lambda n: f"AKIAEXAMPLE{n:09d}")
    secret_access_key = SECRET_ACCESS_KEY
    region = "eu-west-1"
