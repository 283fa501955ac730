from django.contrib import admin

from .models import Feed


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = ["name", "feed_type", "account", "region", "url"]
    list_filter = ["feed_type"]
    search_fields = ["name", "url"]
    prepopulated_fields = {"slug": ["name"]}
    # The password is write-only everywhere, the admin included.
    exclude = ["password", "hook_token", "hook_token_hash"]
