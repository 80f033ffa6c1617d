"""How Persian pages write dates and numbers (Django's FORMAT_MODULE_PATH, over Django's own ``fa``).

Dates are Jalali (models/jalali_format.py) and numeric, as people type them in the console's date
boxes: «1402/10/10», with the time «1402/10/10 14:30». Month names only where a month stands alone.
"""

DATE_FORMAT = "Y/m/d"
DATETIME_FORMAT = "Y/m/d H:i"
SHORT_DATE_FORMAT = "Y/m/d"
SHORT_DATETIME_FORMAT = "Y/m/d H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
# Saturday.
FIRST_DAY_OF_WEEK = 6
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
