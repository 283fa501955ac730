"""The deployment page and its partials: the poll stops with 286 once every line is shown,
earlier lines load on demand, the raw log downloads, and the actions answer as the rules say."""

import pytest
from django.utils import timezone

from deployments.models import Deployment, LogLine
from releases.models import Environment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def signed_client(client, admin_user):
    client.force_login(admin_user)
    return client


def deployment_with_lines(release, count: int, state=Deployment.State.EXECUTING) -> Deployment:
    now = timezone.now()
    deployment = Deployment.objects.create(
        release=release,
        project=release.project,
        environment=Environment.objects.get(slug="dev"),
        state=state,
        started_at=now,
        finished_at=now if state in Deployment.FINISHED else None,
        progress_running=1,
        progress_desired=2,
    )
    LogLine.objects.bulk_create(
        LogLine(deployment=deployment, seq=n, time=now, level="info", text=f"line {n}")
        for n in range(1, count + 1)
    )
    return deployment


def test_page_opens_on_the_tail_of_a_long_log_with_earlier_lines_on_demand(release, signed_client):
    deployment = deployment_with_lines(release, 1200)
    html = signed_client.get(f"/deployments/{deployment.pk}/").content.decode()
    assert 'data-seq="701"' in html and 'data-seq="1200"' in html
    assert 'data-seq="700"' not in html
    assert "?before=701" in html and "?after=1200" in html
    assert "1 of 2 tasks running" in html and 'style="width: 50%"' in html

    earlier = signed_client.get(
        f"/deployments/{deployment.pk}/log/earlier/?before=701"
    ).content.decode()
    assert 'data-seq="201"' in earlier and 'data-seq="700"' in earlier
    assert "?before=201" in earlier


def test_poll_returns_new_lines_and_keeps_polling_while_executing(release, signed_client):
    deployment = deployment_with_lines(release, 5)
    response = signed_client.get(f"/deployments/{deployment.pk}/poll/?after=3")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-seq="4"' in html and 'data-seq="5"' in html and 'data-seq="3"' not in html
    assert 'hx-swap-oob="beforeend:#log-lines"' in html
    assert "?after=5" in html and 'hx-trigger="every 1s"' in html


def test_poll_stops_with_286_once_finished_and_every_line_shown(release, signed_client):
    deployment = deployment_with_lines(release, 5, state=Deployment.State.SUCCESS)
    response = signed_client.get(f"/deployments/{deployment.pk}/poll/?after=5")
    assert response.status_code == 286
    assert "hx-trigger" not in response.content.decode()
    assert ">Success<" in response.content.decode()


@pytest.fixture
def finishes_between_reads(monkeypatch):
    """The engine writes its last line and marks the deployment succeeded right after the reader
    has read the deployment and before it reads the log: the moment a second read of the state
    would disagree with the first."""
    from deployments import logs

    read_log = logs.log_since

    def engine_finishes_then_read(deployment, after, **kwargs):
        LogLine.objects.create(
            deployment_id=deployment.pk,
            seq=after + 1,
            time=timezone.now(),
            level="info",
            text="is deployed to Dev",
        )
        Deployment.objects.filter(pk=deployment.pk).update(
            state=Deployment.State.SUCCESS, finished_at=timezone.now()
        )
        return read_log(deployment, after, **kwargs)

    monkeypatch.setattr(logs, "log_since", engine_finishes_then_read)


def test_poll_never_stops_on_a_card_read_before_the_deployment_finished(
    release, signed_client, finishes_between_reads
):
    deployment = deployment_with_lines(release, 3)
    response = signed_client.get(f"/deployments/{deployment.pk}/poll/?after=3")
    html = response.content.decode()
    # The card was read while executing: the poller must come back for the final state.
    assert 'data-state="executing"' in html
    assert response.status_code == 200 and 'hx-trigger="every 1s"' in html
    assert "is deployed to Dev" in html

    response = signed_client.get(f"/deployments/{deployment.pk}/poll/?after=4")
    assert response.status_code == 286 and 'data-state="success"' in response.content.decode()


def test_log_api_state_and_finished_come_from_one_read(
    release, signed_client, finishes_between_reads
):
    deployment = deployment_with_lines(release, 3)
    body = signed_client.get(f"/api/deployments/{deployment.pk}/log/?after=3").json()
    assert body["state"] == "executing" and body["finished"] is False
    assert [line["text"] for line in body["lines"]] == ["is deployed to Dev"]


def test_raw_log_downloads_every_line(release, signed_client):
    deployment = deployment_with_lines(release, 2500, state=Deployment.State.SUCCESS)
    response = signed_client.get(f"/deployments/{deployment.pk}/log.txt")
    text = b"".join(response.streaming_content).decode()
    assert response["Content-Disposition"] == (
        f'attachment; filename="deployment-{deployment.pk}.log"'
    )
    assert text.count("\n") == 2500 and text.rstrip().endswith("INFO      line 2500")


def test_cancel_from_the_page_requests_it_and_a_viewer_may_not(
    release, client, admin_user, viewer_user
):
    deployment = deployment_with_lines(release, 1)
    client.force_login(viewer_user)
    assert client.post(f"/deployments/{deployment.pk}/cancel/").status_code == 403
    client.force_login(admin_user)
    assert client.post(f"/deployments/{deployment.pk}/cancel/").status_code == 302
    deployment.refresh_from_db()
    assert deployment.cancel_requested_by == "admin" and deployment.state == "executing"


def test_unknown_deployment_is_a_404(signed_client):
    assert signed_client.get("/deployments/999999/").status_code == 404
    assert signed_client.get("/api/deployments/999999/log/").status_code == 404
