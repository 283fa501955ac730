"""Forms of the releases pages, one module a feature.

They check the input's shape only; names, slugs and the rules are the services' to decide.
"""

SLUG_HELP = "Used in URLs and the API. Left blank, it is made from the name."
