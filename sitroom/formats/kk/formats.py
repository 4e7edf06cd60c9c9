"""Kazakh number formats, which Django lacks (it would fall back to a decimal point):
a decimal comma and a space between thousands, as in Kazakhstan's standard practice
and as in Russian. Dates keep Django's defaults, with month names from the catalogue."""

DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\xa0"
NUMBER_GROUPING = 3
