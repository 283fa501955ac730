"""``Authorization: Token <key>`` authentication against hashed API keys."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from .access import KEY_ATTRIBUTE
from .models import ApiKey
from .services import hash_api_key
from .throttling import api_key_window, client_address

# Writing last_used_at on every request would make every read a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyAuthentication(authentication.TokenAuthentication):
    """API keys; an address that sent too many invalid keys recently is answered 429."""

    keyword = "Token"

    def authenticate(self, request):
        window = api_key_window(client_address(request))
        wait = window.retry_after()
        if wait:
            raise exceptions.Throttled(wait, detail="Too many invalid API keys from this address.")
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            window.fail()
            raise

    def authenticate_credentials(self, key):
        api_key = ApiKey.objects.select_related("user").filter(key_hash=hash_api_key(key)).first()
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if api_key.is_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not api_key.user.is_active:
            raise exceptions.AuthenticationFailed("The user of this API key is inactive.")
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        # The access rule reads a narrowed key's own grants from here (see core.access).
        setattr(api_key.user, KEY_ATTRIBUTE, api_key)
        return api_key.user, api_key
