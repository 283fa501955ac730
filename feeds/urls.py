from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path


@login_required
def feed_list(request):
    return HttpResponse("Feeds")


urlpatterns = [path("library/feeds/", feed_list, name="feed-list")]
