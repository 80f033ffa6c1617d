"""Writes the XLSX import templates (models/excel_templates.py) to a directory.

manage.py excel_templates                 # into the current directory
manage.py excel_templates --out var/      # elsewhere

Signed-in leaders can also download them: GET /imports/template/organizations.xlsx and
/imports/template/assignments.xlsx.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from models.excel_templates import FILE_NAMES, template_workbook


class Command(BaseCommand):
    help = "Writes the Excel import templates (organizations, assignments) to a directory."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", default=".", help="the directory to write into (default: the current one)")

    def handle(self, *, out, **options) -> None:
        directory = Path(out)
        directory.mkdir(parents=True, exist_ok=True)
        for kind, name in FILE_NAMES.items():
            path = directory / name
            path.write_bytes(template_workbook(kind))
            self.stdout.write(str(path))
