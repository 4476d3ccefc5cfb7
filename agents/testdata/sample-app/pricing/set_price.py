"""Set a plan's monthly price in pricing/plans.xlsx; Total stays the sum of the plans.

Usage: python pricing/set_price.py PLAN PRICE

Standard library only: it rewrites the Plans sheet's XML inside the workbook and copies every other
part of the file unchanged.
"""

import re
import sys
import zipfile

WORKBOOK = "pricing/plans.xlsx"
SHEET = "xl/worksheets/sheet1.xml"  # Plans: names in column A, monthly prices in column B


def cell_value(xml: str, ref: str) -> float:
    found = re.search(rf'<c r="{ref}"[^>]*><v>([^<]*)</v></c>', xml)
    if found is None:
        sys.exit(f"{WORKBOOK}: cell {ref} holds no number")
    return float(found.group(1))


def set_value(xml: str, ref: str, value: float) -> str:
    shown = str(int(value)) if value.is_integer() else repr(value)
    return re.sub(rf'(<c r="{ref}"[^>]*><v>)[^<]*(</v></c>)', rf"\g<1>{shown}\g<2>", xml)


def main(plan: str, price: str) -> None:
    with zipfile.ZipFile(WORKBOOK) as book:
        parts = [(info, book.read(info.filename)) for info in book.infolist()]
    xml = next(data for info, data in parts if info.filename == SHEET).decode("utf-8")
    rows = {name: int(row) for row, name in re.findall(r'<c r="A(\d+)"[^>]*><is><t>([^<]*)</t></is></c>', xml)}
    plans = [name for name in rows if name not in ("Plan", "Total")]
    if plan not in plans:
        sys.exit(f"no plan named {plan!r}; the plans are {', '.join(plans)}")
    value = float(price)
    xml = set_value(xml, f"B{rows[plan]}", value)
    total = sum(cell_value(xml, f"B{rows[name]}") for name in plans)
    xml = set_value(xml, f"B{rows['Total']}", total)
    with zipfile.ZipFile(WORKBOOK, "w", zipfile.ZIP_DEFLATED) as book:
        for info, data in parts:
            book.writestr(info, xml.encode("utf-8") if info.filename == SHEET else data)
    print(f"{plan}: {value:g} USD a month; total of the plans {total:g}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
