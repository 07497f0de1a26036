"""Optional modules this install does not have, remembered as absent, so `import name`
fails at once instead of searching sys.path again each time.

Why: Gradio runs every event inside `gradio.utils.MatplotlibBackendMananger`, whose
`__enter__` and `__exit__` each `import matplotlib`. Without matplotlib (the studio does not
need it) each is a failed import: a fresh search of sys.path, with file-system calls that let
go of the GIL, twice per event on Gradio's event loop. py-spy (bench/crowd.py's 16 users):
about 12% of that loop's busy samples. `sys.modules[name] = None` is Python's own way to say
"not importable" (the import raises ImportError at once); an installed module is untouched.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

# Imported on every Gradio event when present (gradio.utils.MatplotlibBackendMananger).
PER_EVENT_IMPORTS = ("matplotlib",)


def remember_absent(names: Sequence[str] = PER_EVENT_IMPORTS) -> list[str]:
    """Mark each of `names` that cannot be imported here as absent; returns those marked."""
    absent = [name for name in names if name not in sys.modules and importlib.util.find_spec(name) is None]
    for name in absent:
        sys.modules[name] = None  # type: ignore[assignment]  # Python's marker for "not importable"
    return absent
