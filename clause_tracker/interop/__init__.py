"""Data exchange with the standards of public procurement: the OCDS export of the contracts
(ocds.py) and the import of contract awards from eForms notices (eforms.py), with the table
that maps a notice's buyer to an organisational unit (buyers.py).

The routes are imported by create_app, not here: the pure functions stay free of the views.
"""

from flask import Blueprint

bp = Blueprint("interop", __name__, url_prefix="/interop")
