"""Pages of the core: sign-in, AWS accounts (under Library), audit, API keys.

The dashboard at ``/`` lives with the deployments it shows (``deployments.urls``).
"""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .throttling import ThrottledAuthenticationForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=ThrottledAuthenticationForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("library/accounts/", views.account_list, name="accounts"),
    path("library/accounts/new/", views.account_create, name="account-create"),
    path("library/accounts/<slug:slug>/edit/", views.account_edit, name="account-edit"),
    path("library/accounts/<slug:slug>/delete/", views.account_delete, name="account-delete"),
    path("library/accounts/<slug:slug>/check/", views.account_check_view, name="account-check"),
    path("audit/", views.audit_list, name="audit"),
    path("account/api-keys/", views.api_key_list, name="api-keys"),
    path("account/api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api-key-revoke"),
]
