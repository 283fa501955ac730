"""Web and API helpers shared by every app.

``pages``: server-rendered pages (the write-permission decorator, the create/edit page, the
rejected-form and delete-confirmation pages, service errors on a form). ``api``: REST API error
handling and the service-backed model viewset, with the default ``permissions`` and
``pagination`` classes beside it.
"""
