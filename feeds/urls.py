from django.urls import path

from . import views

urlpatterns = [
    path("library/feeds/", views.feed_list, name="feed-list"),
    path("library/feeds/new/", views.feed_create, name="feed-create"),
    path("library/feeds/<int:pk>/", views.feed_detail, name="feed-detail"),
    path("library/feeds/<int:pk>/edit/", views.feed_edit, name="feed-edit"),
    path("library/feeds/<int:pk>/delete/", views.feed_delete, name="feed-delete"),
    path("library/feeds/<int:pk>/hook/rotate/", views.feed_hook_rotate, name="feed-hook-rotate"),
    path("library/feeds/<int:pk>/test/", views.feed_test_view, name="feed-test"),
    path("library/feeds/<int:pk>/repositories/", views.feed_repositories, name="feed-repositories"),
    path("library/feeds/<int:pk>/versions/", views.feed_versions, name="feed-versions"),
    path("library/feeds/<int:pk>/digest/", views.feed_digest, name="feed-digest"),
    # Package ids may contain "/" (team/api): the rest of the path is the package id.
    path(
        "library/feeds/<int:pk>/packages/<path:package_id>/",
        views.feed_package,
        name="feed-package",
    ),
]
