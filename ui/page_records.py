"""Jobs as a page (or an API answer) may show them: a member of a blind comparison before its
pick names no model or provider (jobs/group_blind.py). `page_records` is the one way the
page's panels turn the engine's records into what they draw (the status lines, the running
jobs, the result panel), as ui/api.public_records is for the API and ui/mcp_views.job_views
for MCP; each asks the engine for the blind letters itself, so no output can forget them."""

from __future__ import annotations

from collections.abc import Sequence

from jobs.group_blind import masked_record
from jobs.records import JobRecord
from ui.i18n import DEFAULT, text
from ui.session import Context


async def blind_letters(ctx: Context, records: Sequence[JobRecord]) -> dict[str, str]:
    """Job id -> cell letter of each record a blind comparison still hides (its owner's
    comparisons; no engine call for a record of no comparison)."""
    found: dict[str, str] = {}
    for owner in dict.fromkeys(r.owner for r in records if r.group_id):
        found |= await ctx.studio.blind_letters(owner, [r for r in records if r.owner == owner])
    return found


def blind_names(ctx: Context, record: JobRecord) -> list[str]:
    """What names a hidden member's model in its words: the model's id and label, the
    provider's name and label."""
    spec = ctx.registry.model_or_none(record.model)
    return [record.model, record.provider, ctx.registry.label(record.provider), *([spec.label] if spec else [])]


async def page_records(ctx: Context, records: Sequence[JobRecord], lang: str = DEFAULT) -> list[JobRecord]:
    """`records` as a page in `lang` may draw them: each hidden member a masked copy named
    as its cell ('Modèle B'; jobs/group_blind.masked_record, `is_masked` tells it)."""
    letters = await blind_letters(ctx, records)
    return [
        masked_record(
            record,
            letters[record.id],
            blind_names(ctx, record),
            text(lang, "compare.blind_name", letter=letters[record.id]),
        )
        if record.id in letters
        else record
        for record in records
    ]


async def page_record(ctx: Context, record: JobRecord, lang: str = DEFAULT) -> JobRecord:
    """One record as a page in `lang` may draw it (`page_records`)."""
    return (await page_records(ctx, [record], lang))[0]
