"""dunning: a credit-control desk for companies that sell on credit."""

import os as _os

# numpy (imported by sqlite-utils and openpyxl when present, and by RapidOCR) starts an
# OpenBLAS thread pool on import, which nothing here uses. One BLAS thread keeps a dunning
# process single-threaded until it starts threads of its own, so its worker processes are
# forked directly (milliseconds) instead of through a fork server (a new interpreter).
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
