"""The model catalog against the provider docs.

The allowed values below are copied from the seed documents and providers.md by hand, not
read from the catalog, so a catalog that drifts from the docs fails here.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from providers import catalog
from providers.base import ValidationError
from providers.catalog import get_model, to_wire, validate_kind, validate_options, validate_prompt

RC = "runcomfy/bytedance/dreamina-3-0"
WS = "wavespeed/bytedance/dreamina-v3.0"
WS_PRO = "wavespeed/bytedance/dreamina-v3.0-pro"

RC_PRO_T2V = f"{RC}/pro/text-to-video"
RC_T2V = f"{RC}/text-to-video"
RC_PRO_I2V = f"{RC}/pro/image-to-video"
RC_I2V = f"{RC}/image-to-video"
WS_PRO_T2V = f"{WS_PRO}/text-to-video"
WS_PRO_I2V = f"{WS_PRO}/image-to-video"
WS_T2V_720 = f"{WS}/text-to-video-720p"
WS_T2V_1080 = f"{WS}/text-to-video-1080p"
WS_I2V_720 = f"{WS}/image-to-video-720p"
WS_I2V_1080 = f"{WS}/image-to-video-1080p"

REAL_MODELS = [
    RC_PRO_T2V, RC_T2V, RC_PRO_I2V, RC_I2V,
    WS_PRO_T2V, WS_PRO_I2V, WS_T2V_720, WS_T2V_1080, WS_I2V_720, WS_I2V_1080,
]  # fmt: skip

# RunComfy Pro text-to-video's enum, exactly as the seed schema spells it (× is U+00D7).
RC_PRO_T2V_LABELS = {
    "16:9": "1920×1088(16:9)",
    "4:3": "1664×1248(4:3)",
    "1:1": "1440×1440(1:1)",
    "3:4": "1248×1664(3:4)",
    "9:16": "1088×1920(9:16)",
    "21:9": "2176×928(21:9)",
}
SIX_RATIOS = ["16:9", "4:3", "1:1", "3:4", "9:16", "21:9"]
SEVEN_RATIOS = [*SIX_RATIOS, "9:21"]

# (model, option, every value the docs allow). Durations for the non-Pro WaveSpeed models
# other than i2v-1080p are undocumented beyond the default 5, so only 5 is asserted.
DOCUMENTED_VALUES: list[tuple[str, str, Sequence[object]]] = [
    (RC_PRO_T2V, "aspect_ratio", SIX_RATIOS),
    (RC_PRO_T2V, "frames", [121, 241]),
    (RC_T2V, "frames", [121, 241]),
    (RC_T2V, "resolution", ["720P", "1080P"]),
    (RC_PRO_I2V, "frames", [121, 241]),
    (RC_I2V, "frames", [121, 241]),
    (RC_I2V, "resolution", ["720P", "1080P"]),
    (WS_PRO_T2V, "aspect_ratio", SEVEN_RATIOS),
    (WS_PRO_I2V, "aspect_ratio", SEVEN_RATIOS),
    (WS_T2V_720, "aspect_ratio", SIX_RATIOS),
    (WS_T2V_1080, "aspect_ratio", SIX_RATIOS),
    (WS_T2V_720, "duration", [5]),
    (WS_T2V_1080, "duration", [5]),
    (WS_I2V_720, "duration", [5]),
    (WS_I2V_1080, "duration", [5]),
    *[(m, "seed", [-1, 0, 42, 2_147_483_647]) for m in REAL_MODELS],
]

# (model, option, a value the docs do not allow, the allowed values the message must list)
REFUSED_VALUES: list[tuple[str, str, object, list[str]]] = [
    (RC_PRO_T2V, "aspect_ratio", "9:21", SIX_RATIOS),
    (RC_PRO_T2V, "aspect_ratio", "2:1", SIX_RATIOS),
    (RC_PRO_T2V, "frames", 120, ["121", "241"]),
    (RC_PRO_T2V, "frames", 240, ["121", "241"]),
    (RC_T2V, "frames", 0, ["121", "241"]),
    (RC_T2V, "resolution", "480P", ["720P", "1080P"]),
    (RC_PRO_I2V, "frames", 361, ["121", "241"]),
    (RC_I2V, "frames", 122, ["121", "241"]),
    (RC_I2V, "resolution", "4K", ["720P", "1080P"]),
    (WS_PRO_T2V, "aspect_ratio", "2:1", SEVEN_RATIOS),
    (WS_PRO_I2V, "aspect_ratio", "16:10", SEVEN_RATIOS),
    (WS_T2V_720, "aspect_ratio", "9:21", SIX_RATIOS),
    (WS_T2V_1080, "aspect_ratio", "9:21", SIX_RATIOS),
    (WS_T2V_720, "duration", 7, ["5"]),
    (WS_I2V_720, "duration", 0, ["5"]),
    (WS_I2V_1080, "duration", 10, ["5"]),
    *[(m, "seed", -2, ["-1", "2147483647"]) for m in (RC_PRO_T2V, WS_PRO_T2V, WS_I2V_1080)],
    *[(m, "seed", 2_147_483_648, ["-1", "2147483647"]) for m in (RC_I2V, WS_T2V_720)],
    (RC_PRO_I2V, "seed", "abc", ["-1", "2147483647"]),
    (WS_I2V_720, "seed", 1.5, ["-1", "2147483647"]),
    (RC_PRO_T2V, "frames", True, ["121", "241"]),
]

# Options each model must refuse by name (docs list no such parameter for it).
NOT_ACCEPTED: list[tuple[str, str, object]] = [
    (RC_PRO_T2V, "resolution", "1080P"),
    (RC_PRO_T2V, "duration", 5),
    (RC_PRO_I2V, "aspect_ratio", "16:9"),
    (RC_PRO_I2V, "resolution", "720P"),
    (RC_I2V, "aspect_ratio", "16:9"),
    (RC_I2V, "duration", 5),
    (WS_PRO_T2V, "frames", 121),
    (WS_PRO_T2V, "duration", 5),
    (WS_PRO_I2V, "resolution", "1080P"),
    (WS_T2V_720, "frames", 121),
    (WS_T2V_1080, "resolution", "1080P"),
    (WS_I2V_720, "aspect_ratio", "16:9"),
    (WS_I2V_1080, "frames", 241),
]


@pytest.mark.parametrize(("model", "option", "values"), DOCUMENTED_VALUES)
def test_every_documented_value_is_accepted(model: str, option: str, values: Sequence[object]) -> None:
    spec = get_model(model)
    for value in values:
        assert validate_options(spec, {option: value})[option] == value


@pytest.mark.parametrize(("model", "option", "value", "allowed"), REFUSED_VALUES)
def test_undocumented_value_is_refused_naming_field_and_allowed_values(
    model: str, option: str, value: object, allowed: list[str]
) -> None:
    spec = get_model(model)
    with pytest.raises(ValidationError) as info:
        validate_options(spec, {option: value})
    assert info.value.field == option
    param = spec.param(option)
    assert param is not None
    assert info.value.message.startswith(param.label)
    for text in allowed:
        assert text in info.value.message


@pytest.mark.parametrize(("model", "option", "value"), NOT_ACCEPTED)
def test_option_the_model_lacks_is_refused_by_name(model: str, option: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        validate_options(get_model(model), {option: value})
    assert info.value.field == option
    assert "does not take" in info.value.message


@pytest.mark.parametrize(("model", "option"), [(m, o) for m, o, _ in NOT_ACCEPTED])
def test_option_the_model_lacks_may_be_left_empty(model: str, option: str) -> None:
    for empty in (None, "", "  "):
        assert option not in validate_options(get_model(model), {option: empty})


def test_the_ten_real_models_and_two_simulated_exist() -> None:
    ids = {m.id for m in catalog.MODELS}
    assert set(REAL_MODELS) <= ids
    assert len([m for m in catalog.MODELS if m.provider != "simulator"]) == 10
    for model in REAL_MODELS:
        spec = get_model(model)
        kind = "i2v" if "image-to-video" in model else "t2v"
        assert spec.kind == kind
        assert (spec.image_wire is not None) == (kind == "i2v")


def test_image_field_per_provider() -> None:
    assert get_model(RC_I2V).image_wire == "image_urls"
    assert get_model(RC_PRO_I2V).image_wire == "image_urls"
    for model in (WS_PRO_I2V, WS_I2V_720, WS_I2V_1080):
        assert get_model(model).image_wire == "image"


def test_defaults_follow_the_docs() -> None:
    assert validate_options(get_model(RC_PRO_T2V), {}) == {"aspect_ratio": "16:9", "frames": 121, "seed": -1}
    assert validate_options(get_model(RC_I2V), {}) == {"frames": 121, "resolution": "720P", "seed": -1}
    assert validate_options(get_model(WS_PRO_I2V), {}) == {"aspect_ratio": "16:9", "seed": -1}
    assert validate_options(get_model(WS_I2V_1080), {}) == {"duration": 5, "seed": -1}


# --- wire mapping --------------------------------------------------------------------------

WIRE_CASES: list[tuple[str, dict[str, object], dict[str, object]]] = [
    (
        RC_PRO_T2V,
        {"aspect_ratio": "9:16", "frames": 241, "seed": 7},
        {"prompt": "p", "aspect_ratio": "1088×1920(9:16)", "frames": 241, "seed": 7},
    ),
    (
        RC_T2V,
        {"frames": 241, "resolution": "1080P", "seed": 3},
        {"prompt": "p", "number_of_frames": 241, "resolution": "1080P", "seed": 3},
    ),
    (RC_PRO_I2V, {"frames": 241, "seed": -1}, {"prompt": "p", "frames": 241, "seed": -1}),
    (
        RC_I2V,
        {"frames": 241, "resolution": "1080P", "seed": 9},
        {"prompt": "p", "number_of_frames": 241, "resolution": "1080P", "seed": 9},
    ),
    (WS_PRO_T2V, {"aspect_ratio": "9:21", "seed": 1}, {"prompt": "p", "aspect_ratio": "9:21", "seed": 1}),
    (WS_PRO_I2V, {"aspect_ratio": "1:1"}, {"prompt": "p", "aspect_ratio": "1:1", "seed": -1}),
    (
        WS_T2V_720,
        {"aspect_ratio": "4:3", "duration": 5, "seed": 2},
        {"prompt": "p", "aspect_ratio": "4:3", "duration": 5, "seed": 2},
    ),
    (
        WS_T2V_1080,
        {"aspect_ratio": "21:9"},
        {"prompt": "p", "aspect_ratio": "21:9", "duration": 5, "seed": -1},
    ),
    (WS_I2V_720, {"duration": 5, "seed": 11}, {"prompt": "p", "duration": 5, "seed": 11}),
    (WS_I2V_1080, {}, {"prompt": "p", "duration": 5, "seed": -1}),
]


@pytest.mark.parametrize(("model", "options", "wire"), WIRE_CASES)
def test_wire_body_per_model(model: str, options: dict[str, object], wire: dict[str, object]) -> None:
    spec = get_model(model)
    assert to_wire(spec, "p", validate_options(spec, options)) == wire


@pytest.mark.parametrize(("ratio", "label"), RC_PRO_T2V_LABELS.items())
def test_runcomfy_pro_t2v_sends_the_seed_docs_pixel_label(ratio: str, label: str) -> None:
    spec = get_model(RC_PRO_T2V)
    assert to_wire(spec, "p", validate_options(spec, {"aspect_ratio": ratio}))["aspect_ratio"] == label
    # The provider's own label is accepted as input too, with × or a plain x.
    assert validate_options(spec, {"aspect_ratio": label})["aspect_ratio"] == ratio
    assert validate_options(spec, {"aspect_ratio": label.replace("×", "x")})["aspect_ratio"] == ratio


def test_values_from_a_form_are_normalised() -> None:
    spec = get_model(RC_I2V)
    assert validate_options(spec, {"frames": "241", "resolution": " 1080p ", "seed": 12.0}) == {
        "frames": 241,
        "resolution": "1080P",
        "seed": 12,
    }


# --- model and kind ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model_id",
    ["runcomfy/bytedance/dreamina-3-0/turbo", "wavespeed/bytedance/dreamina-v3.0/image-to-video-4k", "", "x"],
)
def test_unknown_model_is_refused_with_the_known_ones_listed(model_id: str) -> None:
    with pytest.raises(ValidationError) as info:
        get_model(model_id)
    assert info.value.field == "model"
    assert RC_PRO_T2V in info.value.message and WS_I2V_1080 in info.value.message


def test_known_model_id_is_found_despite_surrounding_spaces() -> None:
    assert get_model(f"  {WS_I2V_720} ").id == WS_I2V_720


@pytest.mark.parametrize(("model", "wrong_kind"), [(RC_PRO_T2V, "i2v"), (WS_I2V_720, "t2v"), (RC_I2V, "t2v")])
def test_kind_mismatch_is_refused(model: str, wrong_kind: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_kind(get_model(model), wrong_kind)  # type: ignore[arg-type]
    assert info.value.field == "model"
    wanted = "a text-to-video" if wrong_kind == "t2v" else "an image-to-video"
    assert f"not {wanted} model" in info.value.message


def test_matching_kind_passes() -> None:
    validate_kind(get_model(RC_PRO_T2V), "t2v")
    validate_kind(get_model(WS_I2V_1080), "i2v")
    validate_kind(get_model(WS_I2V_1080), None)


# --- prompt --------------------------------------------------------------------------------


def test_prompt_of_exactly_800_characters_is_accepted() -> None:
    assert len(validate_prompt("a" * 800)) == 800


def test_prompt_of_801_characters_is_refused_with_both_numbers() -> None:
    with pytest.raises(ValidationError) as info:
        validate_prompt("a" * 801)
    assert info.value.field == "prompt"
    assert "801" in info.value.message and "800" in info.value.message


def test_emoji_count_as_one_character_each() -> None:
    assert validate_prompt("🎬" * 800) == "🎬" * 800
    with pytest.raises(ValidationError):
        validate_prompt("🎬" * 801)


@pytest.mark.parametrize("blank", ["", "   ", "\n\t ", "\u200b\u200b", None])
def test_blank_prompt_is_refused(blank: str | None) -> None:
    with pytest.raises(ValidationError) as info:
        validate_prompt(blank)
    assert info.value.field == "prompt"
    assert "800" in info.value.message


def test_prompt_with_nul_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        validate_prompt("a cat\x00 on a mat")
    assert info.value.field == "prompt"
    assert "NUL" in info.value.message


def test_prompt_with_other_control_characters_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        validate_prompt("a cat\x1b[31m")
    assert info.value.field == "prompt"


def test_prompt_keeps_newlines_tabs_and_other_scripts_but_trims_the_ends() -> None:
    assert validate_prompt("  一只猫\n\tsur le tapis  ") == "一只猫\n\tsur le tapis"


def test_non_text_prompt_is_refused() -> None:
    with pytest.raises(ValidationError):
        validate_prompt(42)
