"""Application operations shared by the CLI and the app.

An operation here spans domains (EM and intelligence, statistics over both,
...) and is the one function both front ends call, so they cannot disagree.
Domain packages never import from here.
"""
