"""Date filters in the console's side bar counting Jalali months and years.

Django's date filter offers «this month» and «this year» by the Gregorian calendar: on 9 Azar
«this month» would run from 21 Aban to 10 Azar. Registered for every date field of every admin page
(the libraries' too), this one keeps Django's choices and query parameters, with the month and the
year of the Jalali calendar, named: «آذر ۱۴۰۵», «سال ۱۴۰۵».
"""

from __future__ import annotations

import datetime

import jdatetime
from django.contrib.admin.filters import DateFieldListFilter, FieldListFilter
from django.db import models

from models.jalali_format import JALALI_MONTHS


class JalaliDateFieldListFilter(DateFieldListFilter):
    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        # Django's «today» (local midnight for a DateTimeField, the date for a DateField) is the
        # first choice after «any date»; the Jalali month and year are counted back from it.
        today = self.links[1][1][self.lookup_kwarg_since]
        jalali = jdatetime.date.fromgregorian(date=today if type(today) is datetime.date else today.date())
        month_start = today - datetime.timedelta(days=jalali.day - 1)
        year_start = today - datetime.timedelta(days=jalali.yday() - 1)
        month_days = 31 if jalali.month <= 6 else 30 if jalali.month <= 11 or jalali.isleap() else 29
        since, until = self.lookup_kwarg_since, self.lookup_kwarg_until
        links = list(self.links)
        links[3] = (
            f"{JALALI_MONTHS[jalali.month - 1]} {jalali.year}",
            {since: month_start, until: month_start + datetime.timedelta(days=month_days)},
        )
        links[4] = (
            f"سال {jalali.year}",
            {since: year_start, until: year_start + datetime.timedelta(days=366 if jalali.isleap() else 365)},
        )
        self.links = tuple(links)


FieldListFilter.register(lambda f: isinstance(f, models.DateField), JalaliDateFieldListFilter, take_priority=True)
