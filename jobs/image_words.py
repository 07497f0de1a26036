"""What the image check and the fit say, in English, each sentence under a code.

jobs/images.py (findings, notes) and jobs/image_fit.py (the changes a fit makes) say their
words through `say(code, ...)`: the English, as `providers.base.Words` carrying its code and
parameters, which a page in another language says in its own words (ui/image_words.py:
`img.<code>`). None of them is stored, so nothing reads English back into a code.
"""

from __future__ import annotations

from providers.base import Words

# EXIF orientation -> what the camera meant (the transposes are in jobs/images.py).
ORIENTATION_WORDS: dict[int, str] = {
    2: "mirror it left to right",
    3: "rotate 180°",
    4: "mirror it top to bottom",
    5: "mirror it and rotate 90°",
    6: "rotate 90° clockwise",
    7: "mirror it and rotate 90°",
    8: "rotate 90° counter-clockwise",
}
_BOMB_TAIL = (
    ", more than the {limit} megapixels the studio will open: it may be a decompression bomb. "
    "Scale it down in an image editor first."
)

TEMPLATES: dict[str, str] = {
    # findings: kinds the studio recognises without opening them
    "svg": "This is an SVG drawing; export it as PNG or JPEG.",
    "heic": (
        "HEIC photos aren't supported by the providers; export it as JPEG "
        "(on an iPhone: Settings › Camera › Formats › Most Compatible)."
    ),
    "video_file": "This is a video file, not an image; choose a still image.",
    "pdf": "This is a PDF document; export the page as PNG or JPEG.",
    "not_image.text": "This file is not an image: it contains text.",
    "not_image.binary": "This file is not an image: its contents are not a picture format the studio can read.",
    "missing": "The image file is missing; choose it again.",
    "unopenable": "The image file could not be opened ({reason}).",
    "empty": "The file is empty (0 bytes); choose an image.",
    "too_big_to_open": (
        "The file is {size}; the studio only opens images up to {open_limit} and the providers take less than {limit}."
    ),
    "bomb.size.count": "The image claims to be {width}×{height} px ({megapixels} megapixels)" + _BOMB_TAIL,
    "bomb.size": "The image claims to be {width}×{height} px" + _BOMB_TAIL,
    "bomb.count": "The image claims to be enormous ({megapixels} megapixels)" + _BOMB_TAIL,
    "bomb": "The image claims to be enormous" + _BOMB_TAIL,
    "truncated": (
        "The image file is cut short (truncated): its picture data cannot be decoded ({detail}). "
        "Export or download it again."
    ),
    "damaged": (
        "The image file is damaged: its picture data cannot be decoded ({detail}). Export or download it again."
    ),
    # findings: the rules
    "animated.pages": "The image has {frames} pages; a video starts from one still image.",
    "animated.frames": "The image has {frames} animation frames; a video starts from one still image.",
    "cmyk": "The image uses CMYK colours (a print format); the providers need RGB.",
    "bit_depth": "The image uses 16 bits per channel (or more); the providers take 8-bit images.",
    "alpha": "The image has transparent areas; a video has no transparency.",
    "format": "The image is in {fmt} format; the providers take {allowed} only.",
    "max_side": "The image is {width}×{height} px; each side may be at most {max_side} px.",
    "min_side": "The image is {width}×{height} px; the shortest side must be at least {min_side} px.",
    "ratio": "The image is {ratio} (long side to short side); the limit is {limit}:1.",
    "bytes": "The image is {size}; the limit is {limit}.",  # after the ones it would also match
    # notes
    "exif_damaged": "Its EXIF metadata is damaged and was ignored.",
    **{f"exif.{n}": f"EXIF says {words}; the studio sends it upright." for n, words in ORIENTATION_WORDS.items()},
    "misnamed": "The file is named .{suffix} but is really a {fmt}.",
    # the verdict (PreflightReport.summary)
    "ready": "The image is ready: {width}×{height} {fmt}, {size}.",
    "fix_action": "Turn on 'Fit image' and the studio will fix this for you, or choose another image.",
    "choose_another.limits": "Choose another image ({limits}).",
    "choose_another": "Choose another image.",
    # what a fit changed (jobs/image_fit.py)
    "fit.first_page": "Used the first of {frames} pages",
    "fit.first_frame": "Used the first of {frames} animation frames",
    **{
        f"fit.upright.{n}": f"Turned it upright as its EXIF orientation says ({words})"
        for n, words in ORIENTATION_WORDS.items()
    },
    "fit.bit_depth": "Converted 16-bit colour to 8-bit",
    "fit.cmyk": "Converted CMYK to RGB",
    "fit.alpha": "Flattened transparency onto white",
    "fit.cropped": "Cropped to {limit}:1 from {ratio}",
    "fit.padded": "Padded to {limit}:1 from {ratio} with black bars",
    "fit.shrunk_for_bytes": "Scaled down from {width}×{height} to {new_width}×{new_height} to get under {limit}",
    "fit.scaled_down": "Scaled down from {width}×{height} to {new_width}×{new_height}",
    "fit.scaled_up": "Scaled up from {width}×{height} to {new_width}×{new_height}",
    "fit.png": "Converted {source} to PNG",
    "fit.reencoded": "Re-encoded as JPEG (quality {quality}) to get under {limit}",
    "fit.jpeg_from": "Converted {source} to JPEG (quality {quality})",
    "fit.jpeg": "Saved as JPEG (quality {quality})",
    "fit.mpo": "Saved as a plain JPEG without the camera's extra preview picture (MPO)",
    "fit.cannot_compress": "The studio could not compress this image under the size limit.",
}



def say(code: str, /, **params: object) -> Words:
    """The English sentence `code` with `params` filled in, carrying both."""
    return Words(TEMPLATES[code].format(**params), code, params)
