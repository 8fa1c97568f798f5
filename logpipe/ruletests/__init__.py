"""Rule tests over time (`*.test.yml` beside the rules), as `promtool test rules` tests Prometheus alerts: log
lines at given times in, the notifications expected out (rule, status, count and total, at which time), decided
by the same engine and incident book as `logpipe replay`. format.py reads a test file, run.py runs its tests,
report.py says how they went (a diff per failure, JUnit XML for CI)."""
