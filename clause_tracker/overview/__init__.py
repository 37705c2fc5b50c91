"""The auditors' overview (coverage and compliance per unit, kind and quarter), exports of
lists and of the overview (CSV, XLSX), and the biennial ECCAR report (DOCX).

Officers see the same page limited to their own unit. The routes are imported by create_app:
conditions.py is imported by the registry's list and must not pull in the views.
"""

from flask import Blueprint

bp = Blueprint("overview", __name__, url_prefix="/overview")
