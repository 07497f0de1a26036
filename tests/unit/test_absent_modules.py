"""ui/absent_modules.py: a module this install lacks fails to import at once; an installed
one is untouched; and Gradio still imports matplotlib on every event (when an upgrade stops,
this fails and the hook can go)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import gradio.utils


def test_an_absent_module_is_remembered_and_an_installed_one_is_left_alone() -> None:
    code = (
        "import sys, json\n"
        "from ui.absent_modules import remember_absent\n"
        "print(remember_absent(['studio_no_such_module_xyz', 'json', 'email']))\n"
        "assert sys.modules['studio_no_such_module_xyz'] is None and sys.modules['json'] is json\n"
        "try:\n    import studio_no_such_module_xyz\nexcept ImportError:\n    print('refused')\n"
        "import email\nprint(email.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=".")
    assert done.stdout.split() == ["['studio_no_such_module_xyz']", "refused", "email"], done.stdout


def test_gradio_still_imports_matplotlib_on_every_event() -> None:
    manager = inspect.getsource(gradio.utils.MatplotlibBackendMananger)
    assert manager.count("import matplotlib") == 2  # __enter__ and __exit__
    assert "MatplotlibBackendMananger()" in inspect.getsource(__import__("gradio.route_utils").route_utils)
