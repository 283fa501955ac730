"""``{% may %}`` and ``{% refusal %}``: the access rule asked from a template.

``{% may "deploy" project environment as allowed %}`` sets a boolean;
``{% refusal "deploy" project environment as why %}`` sets the reason ("" when allowed), for a
disabled button's title.
"""

from django import template

from deployserver.core.access import access_for

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context, action: str, project=None, environment=None) -> bool:
    return access_for(context["request"].user).allows(action, project, environment)


@register.simple_tag(takes_context=True)
def refusal(context, action: str, project=None, environment=None) -> str:
    return access_for(context["request"].user).reason(action, project, environment) or ""
