"""Planning a comparison (jobs/groups.py): which options are shared, each member's model,
take, seed and request, checked before anything is priced or sent. Pure: no I/O.

Fairness: one seed is shared by every model (take k of every model gets the same seed);
takes get distinct seeds (the given seed plus the take number, or distinct random ones).
Options: one shared value applies to every chosen model that takes the option; an option
only some models take is set per model (`option_plan` says which is which).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from jobs import rules
from jobs.group_store import Kind
from jobs.records import GenerationRequest
from providers import catalog
from providers.base import ValidationError
from providers.catalog import ModelSpec, ParamSpec
from providers.registry import Registry

MIN_MEMBERS, MAX_MEMBERS = 2, 6
SEED = "seed"


@dataclass(frozen=True)
class CompareRequest:
    """What the Compare tab or the /compare endpoint asks for, before validation.

    `options` are the shared options (raw values, as a form or the API gives them);
    `per_model` maps a model id to options set for that model alone (they win over shared
    ones). `seed`: empty or -1 for random."""

    kind: Kind
    prompt: str
    models: tuple[str, ...]
    takes: int = 1
    seed: object = None
    image: str | None = None
    fit_image: bool = False
    options: Mapping[str, object] = field(default_factory=dict)
    per_model: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    blind: bool = False


@dataclass(frozen=True)
class OptionPlan:
    """Which options one control sets for every chosen model (`shared`, the choices every
    one of them allows) and which are set per model (`per_model`: model id -> its options
    that not every chosen model takes). The seed is neither: it has its own rule."""

    shared: dict[str, ParamSpec]
    per_model: dict[str, list[ParamSpec]]


@dataclass(frozen=True)
class PlannedMember:
    spec: ModelSpec
    take: int
    seed: int | None
    request: GenerationRequest


@dataclass(frozen=True)
class MemberPrice:
    model: str
    take: int
    usd: float
    source: str
    words: str


@dataclass(frozen=True)
class GroupQuote:
    """The price of a comparison before it is sent: each member's and the total."""

    members: tuple[MemberPrice, ...]

    @property
    def total_usd(self) -> float:
        return round(sum(m.usd for m in self.members), 6)

    @property
    def estimated(self) -> bool:
        return any(m.source == "estimate" for m in self.members)



def _shared_param(params: Sequence[ParamSpec]) -> ParamSpec | None:
    """The option as one control for all of `params` (same name, one per model): the
    choices every model allows, in the first model's order; None if they have none in common
    or are of different types."""
    first = params[0]
    if any(p.type is not first.type or (p.choices is None) != (first.choices is None) for p in params):
        return None
    if first.choices is None:
        return first
    common = [c for c in first.choices if all(c in (p.choices or ()) for p in params)]
    if not common:
        return None
    default = first.default if first.default in common else common[0]
    return ParamSpec(
        name=first.name,
        wire=first.wire,
        type=first.type,
        default=default,
        label=first.label,
        choices=tuple(common),
        choice_labels=first.choice_labels,
        verified=all(p.verified for p in params),
        help=first.help,
    )


def option_plan(registry: Registry, models: Sequence[str]) -> OptionPlan:
    """Shared and per-model options of the chosen models (see OptionPlan)."""
    specs = [registry.model(m) for m in dict.fromkeys(models)]
    shared: dict[str, ParamSpec] = {}
    per_model: dict[str, list[ParamSpec]] = {spec.id: [] for spec in specs}
    names = list(dict.fromkeys(p.name for spec in specs for p in spec.params if p.name != SEED))
    for name in names:
        params = [spec.param(name) for spec in specs]
        found = [p for p in params if p is not None]
        one = _shared_param(found) if len(found) == len(specs) else None
        if one is not None:
            shared[name] = one
            continue
        for spec in specs:
            param = spec.param(name)
            if param is not None:
                per_model[spec.id].append(param)
    return OptionPlan(shared, per_model)


def member_label(spec: ModelSpec) -> str:
    """'WaveSpeedAI Dreamina 3.0 720p': how an error names the member at fault."""
    return f"{spec.provider_label} {spec.label}"


def member_error(error: ValidationError, member: str, model: str) -> ValidationError:
    """`error` of one member, naming it ('WaveSpeedAI Dreamina 3.0 720p (model id): …'); the
    page says the member's own error in its language inside `error.member`."""
    return ValidationError(
        error.field, f"{member} ({model}): {error.message}", code="member", member=member, model=model, reason=error
    )


def _seeds(raw: object, takes: int) -> list[int]:
    """One seed per take: the given seed and the next ones, or distinct random seeds."""
    param = catalog.seed_param()
    value = catalog.RANDOM_SEED if catalog.is_empty(raw) else raw
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not catalog.SEED_MIN <= value <= catalog.SEED_MAX:
        raise ValidationError(
            SEED, f"Seed: {param.minimum} (random) or a whole number from 0 to {catalog.SEED_MAX}; got {raw!r}."
        )
    if value == catalog.RANDOM_SEED:
        return random.SystemRandom().sample(range(catalog.SEED_MAX + 1), takes)
    return [(value + k) % (catalog.SEED_MAX + 1) for k in range(takes)]


def plan_members(registry: Registry, request: CompareRequest) -> list[PlannedMember]:
    """Every member of the comparison, checked. Raises ValidationError naming the field and,
    for a member's own fault, the model (before anything is priced or sent)."""
    models = [str(m).strip() for m in request.models if str(m).strip()]
    takes = request.takes
    if isinstance(takes, bool) or not isinstance(takes, int) or not 1 <= takes <= MAX_MEMBERS:
        raise ValidationError(
            "takes", f"Takes: a whole number from 1 to {MAX_MEMBERS}; got {takes!r}.", code="group_takes",
            max=MAX_MEMBERS, got=repr(takes),
        )
    if not models:
        raise ValidationError("models", "Models: choose at least one model to compare.", code="group_no_models")
    for model in models:
        if models.count(model) > 1:
            raise ValidationError(
                "models", f"Models: {model} is chosen twice; use takes for several runs of one model.",
                code="group_twice", model=model,
            )
    count = len(models) * takes
    if not MIN_MEMBERS <= count <= MAX_MEMBERS:
        raise ValidationError(
            "models",
            f"Models: a comparison has {MIN_MEMBERS} to {MAX_MEMBERS} videos (models × takes); "
            f"{len(models)} model{'s' if len(models) != 1 else ''} × {takes} take{'s' if takes != 1 else ''} is {count}.",
            code="group_size", min=MIN_MEMBERS, max=MAX_MEMBERS, models=len(models), takes=takes, count=count,
        )
    specs: list[ModelSpec] = []
    for model in models:
        spec = registry.model_or_none(model)
        if spec is None:
            raise ValidationError(
                "models", f"Models: no model '{model}'. Use a model id from the Models table.",
                code="group_unknown_model", model=model,
            )
        if spec.kind != request.kind:
            wanted = "a text-to-video" if request.kind == "t2v" else "an image-to-video"
            raise ValidationError(
                "models", f"Models: {member_label(spec)} is not {wanted} model.",
                code=f"group_not_{request.kind}", member=member_label(spec),
            )
        specs.append(spec)
    shared = {k: v for k, v in request.options.items() if k != SEED and not catalog.is_empty(v)}
    seed_raw = request.options.get(SEED) if catalog.is_empty(request.seed) else request.seed
    for name in shared:
        if not any(spec.accepts(name) for spec in specs):
            raise ValidationError(name, f"{name}: none of the chosen models takes this setting; leave it empty.")
    seeds = _seeds(seed_raw, takes)
    planned: list[PlannedMember] = []
    for spec in specs:
        own = {k: v for k, v in shared.items() if spec.accepts(k)}
        own.update({k: v for k, v in (request.per_model.get(spec.id) or {}).items() if k != SEED})
        for take in range(1, takes + 1):
            seed = seeds[take - 1] if spec.accepts(SEED) else None
            values = {**own, **({SEED: seed} if seed is not None else {})}
            try:
                generation = rules.build_request(
                    registry, request.kind, spec.id, request.prompt, values, request.image, request.fit_image,
                    only_accepted=False,
                )
                rules.check_request(registry, generation)
            except ValidationError as exc:
                raise member_error(exc, member_label(spec), spec.id) from None
            planned.append(PlannedMember(spec, take, seed, generation))
    return planned
