"""The mark that stands where retention erased a name or a text: visible, never an empty
field that could be mistaken for "never recorded"."""

ERASED = "[erased]"
