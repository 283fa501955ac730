"""``python -m deployserver_cli``: the same as the ``deployserver`` command."""

import sys

from .main import main

sys.exit(main())
