"""How a figure with nothing to compute it from reads, on every page and in every e-mail:
never a 0 that is not there."""

NO_DATA = "no data"
