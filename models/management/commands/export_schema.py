"""``python manage.py export_schema``: print the GraphQL SDL (committed as schema.graphql)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print the GraphQL schema (SDL) of Mana's API."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="Write to this file instead of standard output.")

    def handle(self, *args, output=None, **options):
        from schema.schema import schema

        sdl = schema.as_str() + "\n"
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(sdl)
        else:
            self.stdout.write(sdl, ending="")
