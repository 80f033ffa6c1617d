"""``python manage.py seed_demo``: load the seed's example (safe to run again)."""

from django.core.management.base import BaseCommand

from models.demo import DEMO_PASSWORD, PEOPLE, load_demo


class Command(BaseCommand):
    help = "Load the demo data of the user guide: Ministry of Energy, the 1402 period, indicators, people."

    def handle(self, *args, **options):
        counts = load_demo()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {counts['organizations']} organizations, {counts['people']} people, "
                f"{counts['indicators']} indicators."
            )
        )
        for code, first, last, post, *_ in PEOPLE:
            self.stdout.write(f"  {code}  {first} {last} ({post})  password: {DEMO_PASSWORD}")
