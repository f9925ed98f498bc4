"""The governance pack (ATRS record, DPIA annex): the rules in force in plain
English, the model card, override and concordance, acceptance, QA, cadence."""
