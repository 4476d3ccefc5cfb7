"""Set a plan's monthly price in pricing/plans.xlsx; Total stays the sum of the plans.

Usage: python pricing/set_price.py PLAN PRICE
"""

import sys

from openpyxl import load_workbook

WORKBOOK = "pricing/plans.xlsx"


def main(plan: str, price: str) -> None:
    book = load_workbook(WORKBOOK)
    sheet = book["Plans"]
    rows = {sheet.cell(row, 1).value: row for row in range(2, sheet.max_row + 1)}
    plans = [name for name in rows if name != "Total"]
    if plan not in plans:
        sys.exit(f"no plan named {plan!r}; the plans are {', '.join(plans)}")
    value = float(price)
    sheet.cell(rows[plan], 2).value = int(value) if value.is_integer() else value
    total = sum(sheet.cell(rows[name], 2).value for name in plans)
    sheet.cell(rows["Total"], 2).value = total
    book.save(WORKBOOK)
    print(f"{plan}: {value:g} USD a month; total of the plans {total:g}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
