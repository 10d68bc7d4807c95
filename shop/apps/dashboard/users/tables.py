"""
Oscar's dashboard customer list: the customer's «Имя» (Oscar's column has no heading a
translator can reach and printed «Name»), «active» and «staff» as ticks, not True/False.
"""

from django.utils.translation import pgettext_lazy
from django_tables2 import BooleanColumn, Column
from oscar.apps.dashboard.users import tables as oscar_tables


class UserTable(oscar_tables.UserTable):
    name = Column(
        accessor="get_full_name",
        order_by=("last_name", "first_name"),
        verbose_name=pgettext_lazy("person", "Name"),
    )
    active = BooleanColumn(accessor="is_active")
    staff = BooleanColumn(accessor="is_staff")
