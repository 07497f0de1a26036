"""Image fit: a 4096x4096 PNG brought under the 4.7 MB limit by jobs.media.fit_image.

Two inputs: a photo-like picture (natural-image statistics: a 1/f spectrum over several
octaves, shapes with hard edges, colour that varies with light, and sensor noise, so its
PNG is about as large as a real 16-megapixel photo's) and the worst case, uniform random
noise, which no codec can shrink. Timed in-process after a warm-up fit of a small image;
the figure is the slowest of the rounds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bench.harness import BenchResult, Figure, fmt_list, log, median, temp_dir

SIDE = 4096
LIMIT_SECONDS = 1.5


def _octave_noise(rng: Any, side: int, alpha: float = 1.0) -> Any:
    """Square noise with a 1/f^alpha amplitude spectrum (natural images: alpha about 1)."""
    import numpy as np

    fy = np.fft.fftfreq(side)[:, None]
    fx = np.fft.rfftfreq(side)[None, :]
    radius = np.sqrt(fx * fx + fy * fy)
    radius[0, 0] = 1.0
    spectrum = (rng.standard_normal(radius.shape) + 1j * rng.standard_normal(radius.shape)) / radius**alpha
    spectrum[0, 0] = 0
    field = np.fft.irfft2(spectrum, s=(side, side)).astype(np.float32)
    field -= field.min()
    field /= max(float(field.max()), 1e-6)
    return field


def photo_like(width: int, height: int, seed: int = 1) -> Any:
    """A synthetic photograph: smooth light, textured surfaces, hard-edged objects, noise."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    side = max(width, height)
    # Coarse structure (light, sky, large surfaces) at a quarter size, scaled up smoothly.
    coarse_side = max(64, side // 4)
    layers = [_octave_noise(rng, coarse_side, 1.1) for _ in range(3)]
    coarse = np.stack(
        [
            0.55 * layers[0] + 0.45 * layers[1],
            0.5 * layers[0] + 0.5 * layers[2],
            0.6 * layers[0] + 0.4 * layers[2],
        ],
        axis=-1,
    )
    image = Image.fromarray((coarse * 255).astype(np.uint8), "RGB").resize(
        (side, side), Image.Resampling.BICUBIC
    )
    # Objects: hard edges over the light, softened a little as a lens does.
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.integers(0, side, 2)
        w, h = rng.integers(side // 40, side // 5, 2)
        colour = tuple(int(c) for c in rng.integers(20, 235, 3))
        if rng.random() < 0.5:
            draw.ellipse((int(x), int(y), int(x + w), int(y + h)), fill=colour)
        else:
            draw.rectangle((int(x), int(y), int(x + w), int(y + h)), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    pixels = np.asarray(image, np.float32)
    # Texture (foliage, fabric, stone) at half size, and sensor noise at full size.
    texture = _octave_noise(rng, side // 2, 0.8)
    texture = np.asarray(
        Image.fromarray((texture * 255).astype(np.uint8), "L").resize(
            (side, side), Image.Resampling.BILINEAR
        ),
        np.float32,
    )
    pixels *= (0.75 + 0.5 * (texture / 255))[..., None]
    pixels += rng.normal(0.0, 2.5, pixels.shape).astype(np.float32)
    out = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    return out.crop((0, 0, width, height)) if (width, height) != (side, side) else out


def noise(width: int, height: int) -> Any:
    from PIL import Image

    return Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))


def run(quick: bool = False) -> BenchResult:
    from PIL import Image

    from jobs.media import fit_image
    from providers.catalog import IMAGE_RULES

    rounds = 3 if quick else 5
    figures: list[Figure] = []
    notes: list[str] = []
    with temp_dir("bench-fit-") as tmp:
        inputs: dict[str, Path] = {}
        log("image_fit: making the inputs")
        for name, make in (("photo-like", photo_like), ("noise", lambda w, h: noise(w, h))):
            path = tmp / f"{name}.png"
            make(SIDE, SIDE).save(path, "PNG", compress_level=6)
            inputs[name] = path
        warm = tmp / "warm.png"
        Image.new("RGB", (5000, 400), (90, 120, 150)).save(warm)
        fit_image(warm, IMAGE_RULES, tmp / "warm-out")  # imports, codec set-up
        for name, path in inputs.items():
            seconds: list[float] = []
            sizes: list[int] = []
            changes: tuple[str, ...] = ()
            for r in range(rounds):
                out_dir = tmp / f"out-{name}-{r}"
                out_dir.mkdir()
                start = time.perf_counter()
                result = fit_image(path, IMAGE_RULES, out_dir)
                seconds.append(time.perf_counter() - start)
                sizes.append(result.path.stat().st_size)
                changes = result.changes
                with Image.open(result.path) as fitted:
                    fitted_size = fitted.size
            under = all(size < IMAGE_RULES.max_bytes for size in sizes)
            worst = max(seconds)
            log(f"image_fit {name}: {fmt_list(seconds)} s, {sizes[-1] / 1e6:.2f} MB")
            figures.append(
                Figure(
                    "image_fit",
                    f"{name} 4096x4096 PNG ({path.stat().st_size / 1e6:.1f} MB) fitted under 4.7 MB: slowest round",
                    worst,
                    "s",
                    f"<= {LIMIT_SECONDS} s and < 4.7 MB",
                    worst <= LIMIT_SECONDS and under,
                    f"s {fmt_list(seconds)} (median {median(seconds):.3f}); out {sizes[-1] / 1e6:.2f} MB "
                    f"{fitted_size[0]}x{fitted_size[1]}; {'; '.join(changes)}",
                )
            )
    how = (
        "In one process, after a warm-up fit of a small image: `jobs.media.fit_image(png, IMAGE_RULES, "
        "folder)` on two 4096x4096 PNGs (compress level 6) made before timing: photo-like (1/f-spectrum "
        "light and texture, 40 hard-edged shapes, Gaussian blur 1.2 px, sensor noise sigma 2.5) and "
        f"uniform random noise from os.urandom. {rounds} rounds each; the figure is the slowest round; "
        "the output must be under IMAGE_RULES.max_bytes (4,700,000 bytes)."
    )
    return BenchResult(figures, how, notes)


if __name__ == "__main__":
    for figure in run(quick=True).figures:
        print(figure)
