"""The Spend tab's figures (ui/spend_panel.py): the totals are a table styled like the job's
details, not a grid of inline-styled black borders."""

from __future__ import annotations

import re

from jobs.settings import Settings
from ui.spend_panel import figures_html

SPEND = {
    "today_usd": 0.6,
    "month_usd": 1.2,
    "total_usd": 3.0,
    "jobs": 5,
    "by_provider": {"simulator": 0.0},
    "by_model": {"simulator/dreamina-3-0/text-to-video": 0.0},
}


def test_the_totals_table_takes_the_details_tables_look_and_no_inline_style(tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = figures_html(SPEND, Settings(data_dir=tmp_path).registry, "fr")
    table = re.search(r"<table[^>]*>.*?</table>", page, re.S)
    assert table is not None
    assert 'class="details-table spend-table"' in table.group(0)
    assert "style=" not in table.group(0)
    assert [float(v) for v in re.findall(r"data-usd='([\d.]+)'", table.group(0))] == [0.6, 1.2, 3.0]
