"""Step types: each module describes one kind of step and is registered in ``apps.ready``."""
