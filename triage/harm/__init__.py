"""The optional harm score: a scikit-learn model trained on tasking outcomes.

Advice beside the rules, never instead of them. ``features`` builds the model
inputs (and refuses protected characteristics), ``training`` fits and selects
the classifier, ``evaluation`` measures it on the held-out period (with
fairness by group), ``artefact`` stores and verifies files so that nothing
unregistered is ever unpickled, ``registry`` keeps the manifest rows in the
database, ``scoring`` serves the active model to the ranking, and ``card``
writes the model card. Off until a team leader activates a model.
"""
