"""Core Celery tasks."""

import os
import socket

from celery import shared_task


@shared_task(name="deployserver.ping", soft_time_limit=10, time_limit=20)
def ping() -> dict:
    """Answer with where the task ran: proves a worker is consuming and results come back."""
    return {"hostname": socket.gethostname(), "pid": os.getpid(), "ppid": os.getppid()}
