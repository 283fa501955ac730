"""The releases REST API, one module a feature; ``deployserver/urls.py`` wires them."""
