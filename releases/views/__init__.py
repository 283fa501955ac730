"""The releases pages, one module a feature; ``releases/urls.py`` wires them.

Thin views: forms check the input's shape, the services decide (see ``deployserver.web.pages``).
"""
