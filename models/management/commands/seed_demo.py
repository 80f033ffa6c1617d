"""``python manage.py seed_demo``: load the seed's example (safe to run again)."""

from django.core.management.base import BaseCommand

from models.demo import DEMO_PASSWORD, PEOPLE, load_demo
from models.jalali import format_jalali
from models.periods import EvaluationPeriod


class Command(BaseCommand):
    help = (
        "Load the demo data of the user guide: Ministry of Energy, the 1402 period, indicators, people; "
        "and the current year's period with work in every state."
    )

    def handle(self, *args, **options):
        counts = load_demo()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {counts['organizations']} organizations, {counts['people']} people, "
                f"{counts['indicators']} indicators."
            )
        )
        for period in EvaluationPeriod.objects.all():
            self.stdout.write(f"  {period.title}: {format_jalali(period.start_date)}–{format_jalali(period.end_date)}")
        for code, first, last, post, *_ in PEOPLE:
            self.stdout.write(f"  {code}  {first} {last} ({post})  password: {DEMO_PASSWORD}")
