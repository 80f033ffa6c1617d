"""``python manage.py check_tree [--repair]``: verify (and rebuild) the organization tree."""

from django.core.management.base import BaseCommand, CommandError

from models.tree_integrity import check_tree, repair_tree


class Command(BaseCommand):
    help = "Check the mptt invariants of the organization tree; --repair rebuilds it from parent links."

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Rebuild lft/rght/level from the parent links (under the tree lock), then check again.",
        )

    def handle(self, *args, repair: bool = False, **options):
        problems = check_tree()
        if not problems:
            self.stdout.write(self.style.SUCCESS("Organization tree is consistent."))
            return
        self._report(problems)
        if not repair:
            # CommandError: exit status 1 from the shell, an exception for call_command callers.
            raise CommandError(f"Organization tree is inconsistent: {len(problems)} problem(s). Run with --repair.")

        self.stdout.write("Rebuilding the organization tree from parent links…")
        remaining = repair_tree()
        if remaining:
            self._report(remaining)
            raise CommandError(f"Organization tree is still inconsistent after rebuild: {len(remaining)} problem(s).")
        self.stdout.write(self.style.SUCCESS("Organization tree repaired and consistent."))

    def _report(self, problems: list[str]) -> None:
        for problem in problems:
            self.stderr.write(f"  - {problem}")
