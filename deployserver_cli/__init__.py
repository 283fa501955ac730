"""``deployserver``: the command line for CI pipelines, a client of the server's REST API.

It is a package of its own, outside ``deployserver/``: importing anything under ``deployserver``
loads the Celery app (and with it Django settings), and this command must start fast on a CI
runner that has neither. It imports only the standard library; ``tests/cli`` checks that.
"""
