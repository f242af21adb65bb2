"""Cells of the CSV files people open in a spreadsheet (the auditors' export, the refund
officers' export): text someone typed stays text.

CSV injection (OWASP): a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read by Excel as a formula (a bank name typed as ``=HYPERLINK(...)``, an object id
a customer chose); a leading apostrophe makes the spreadsheet show it as text instead. The
payout's transfer file is the bank's format, read by the bank's system: it is not touched.
"""

from __future__ import annotations

#: What a spreadsheet would read as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell: str) -> str:
    """``cell`` as a spreadsheet shows it, never runs it."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
