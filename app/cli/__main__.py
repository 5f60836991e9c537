"""``python -m wavefab.app.cli``: the same as the ``wavefab`` command."""

import sys

from . import main

sys.exit(main())
