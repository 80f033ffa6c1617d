"""``python manage.py seed_scale``: country-sized, reproducible data for benchmarks (models.scale)."""

from django.core.management.base import BaseCommand, CommandError

from models.scale import SCALE_PASSWORD, personas, seed_scale


class Command(BaseCommand):
    help = (
        "Build country-sized data: an organization tree of --orgs units, --users people with roles and "
        "approvers, two periods with indicators and assignments, and --referrals referrals in chains, with "
        f"every guardian grant. The same --seed gives the same data. Every password is {SCALE_PASSWORD!r}. "
        "Refuses a database that holds organizations unless --flush (which empties every table first)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orgs", type=int, default=20_000, help="organizations, ±1%% (default 20000)")
        parser.add_argument("--users", type=int, default=100_000, help="people (default 100000)")
        parser.add_argument("--referrals", type=int, default=1_000_000, help="referrals (default 1000000)")
        parser.add_argument("--seed", type=int, default=1402, help="random seed (default 1402)")
        parser.add_argument("--flush", action="store_true", help="empty the whole database first")

    def handle(self, *args, orgs, users, referrals, seed, flush, **options):
        try:
            counts = seed_scale(
                orgs=orgs, users=users, referrals=referrals, seed=seed, flush=flush, log=self.stdout.write
            )
        except ValueError as error:
            raise CommandError(str(error))
        self.stdout.write(self.style.SUCCESS("Scale data ready:"))
        for table, count in counts.items():
            self.stdout.write(f"  {table:22} {count:>12,}")
        self.stdout.write(f"Personas (password for everyone: {SCALE_PASSWORD}):")
        for key, value in personas().items():
            self.stdout.write(f"  {key:26} {value}")
