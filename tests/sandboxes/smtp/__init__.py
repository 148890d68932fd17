"""A local SMTP sink: every accepted message becomes one .eml file, listed on a small web page."""
