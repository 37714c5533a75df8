"""Root pytest configuration: modules generated on demand go to a private cache, never the user's.

Set before anything imports ``crystal_fourier.generated`` (whose ``__path__`` includes the cache),
so the box K = 2 set of the fast tests and every non-standard setting are rendered by the real
generator into a temporary directory per test process.
"""

import os
import tempfile

os.environ["CRYSTAL_FOURIER_CACHE"] = tempfile.mkdtemp(prefix="crystal-fourier-test-cache-")
