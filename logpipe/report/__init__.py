"""`logpipe report`: a self-contained HTML report (charts, incident timeline, failures) and a terminal summary of a
saved log."""
