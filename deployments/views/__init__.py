"""Pages of the deployments app, one module per feature: ``dashboard``, ``releases`` (a
project's releases and their actions) and ``deployments`` (one deployment, live)."""
