"""Outcome statistics: the published tables reproduced from raw records.

``tasking`` counts intelligence outcomes (NAO Figure 9 and its relatives),
``feedback`` turns them into acceptance and result rates per rule, bucket
and model score, ``em`` counts the EM caseload (ICIBI Figures 5, 6 and 14),
``lead`` gives the lead indicators (backlog, ageing, due soon) and
``exports`` writes any of them as CSV, XLSX or a one-page PDF. Every measure
is defined in ``docs/statistics.md``; every table is a ``StatTable`` so the
CLI, the exports and the dashboard show the same numbers.
"""
