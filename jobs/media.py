"""Media handling for the job engine, in one import: image preflight and fit, streaming
download, video probe, browser-safe re-encode and poster.

    from jobs.media import prepare_input, download, ensure_browser_playable, make_poster

The work lives in jobs/images.py (preflight), jobs/image_fit.py (fit, prepare_input),
jobs/download.py and jobs/video.py; this module only re-exports their public names.
"""

from __future__ import annotations

from jobs.download import download, unguessable_name
from jobs.image_fit import FitMode, FitResult, fit_image, planned_changes, prepare_input
from jobs.images import ImageIssue, PreflightReport, preflight
from jobs.video import VideoInfo, ensure_browser_playable, make_poster, playable_with_poster, probe

__all__ = [
    "FitMode",
    "FitResult",
    "ImageIssue",
    "PreflightReport",
    "VideoInfo",
    "download",
    "ensure_browser_playable",
    "fit_image",
    "make_poster",
    "planned_changes",
    "playable_with_poster",
    "prepare_input",
    "preflight",
    "probe",
    "unguessable_name",
]
