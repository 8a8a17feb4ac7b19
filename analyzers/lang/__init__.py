"""One module per language (a family of dialects shares one): everything Cairn knows about it.

``analyzers.lang.language`` defines the ``Language`` entry and its parts; each other module of
this package defines the entries of one language; ``analyzers.languages`` registers them.
"""
