"""``python -m crystal_fourier`` is the ``crystal-fourier`` command."""

import sys

from crystal_fourier.cli import main

sys.exit(main())
