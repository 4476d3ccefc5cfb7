"""How supervision figures read to a person, the same in the terminal and the web console."""

from __future__ import annotations


def age(seconds: float | None) -> str:
    """Like kubectl's AGE: the largest unit or two (45s, 12m, 3h20m, 2d5h)."""
    if seconds is None:
        return "-"
    total = int(seconds)
    if total < 60:
        return f"{total}s"
    minutes, hours, days = total // 60, total // 3600, total // 86400
    if total < 600:
        rest = total % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if total < 3600:
        return f"{minutes}m"
    if total < 86400:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest and hours < 10 else f"{hours}h"
    rest = hours % 24
    return f"{days}d{rest}h" if rest and days < 10 else f"{days}d"


def money(usd: float | None) -> str:
    if usd is None:
        return "-"
    return f"${usd:,.2f}" if usd >= 0.01 or usd == 0 else f"${usd:.4f}"


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.0f}%"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
