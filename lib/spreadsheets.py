"""CSV files that open safely in a spreadsheet."""


def csv_cell(value: str) -> str:
    """``value`` as a CSV cell a spreadsheet shows rather than runs: a cell that starts with
    one of these is read as a formula (names and labels come from people). Figures such as
    "-33" are numbers and stay as they are."""
    if value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value.rstrip("%"))
    except ValueError:
        return False
    return True
