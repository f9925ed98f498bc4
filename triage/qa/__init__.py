"""QA sampling of tasking and EM decisions, scored by 003 Annex D's rules
(Calibre: QS1-QS5), and the satisfactory rate against the 75% target."""
