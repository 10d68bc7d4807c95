"""
How customers pay: no payment provider, the order is paid outside the site.

- «Наличными при получении» (cash on delivery): the courier or the pickup desk takes
  the money.
- «Счёт на оплату» (bank invoice): the manager sends an invoice, usually from 1C.

The chosen method is recorded on the order as Oscar's payment ``Source`` whose
``SourceType`` has that Russian name (managers and 1C read it; it does not change
with the language of the page) with the order total allocated and nothing debited:
no money has moved when the order is placed.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")


@dataclass(frozen=True)
class PaymentMethod:
    #: Stable code: kept in the checkout session and as the SourceType's code.
    code: str
    #: The SourceType's name, recorded on orders.
    source_type_name: str
    #: What the customer reads at checkout (translated).
    label: Promise
    description: Promise

    def source_type(self):
        """The SourceType of this method, created on first use (``setup_shop`` creates it too)."""
        source_type, _ = SourceType.objects.get_or_create(
            code=self.code, defaults={"name": self.source_type_name}
        )
        return source_type

    def source_for(self, order_total):
        """An unsaved payment Source for an order of ``order_total``: all of it allocated, nothing debited."""
        return Source(
            source_type=self.source_type(),
            currency=order_total.currency,
            amount_allocated=order_total.incl_tax,
        )


CASH_ON_DELIVERY = PaymentMethod(
    code="cash-on-delivery",
    source_type_name="Наличными при получении",
    label=_("Cash on delivery"),
    description=_("Pay the courier or at the pickup point when you receive the order."),
)
BANK_INVOICE = PaymentMethod(
    code="bank-invoice",
    source_type_name="Счёт на оплату",
    label=_("Bank invoice"),
    description=_("We will send you an invoice; the order is shipped once it is paid."),
)

PAYMENT_METHODS = (CASH_ON_DELIVERY, BANK_INVOICE)


def get_payment_method(code):
    """The payment method with ``code``, or None for an unknown (e.g. stale session) code."""
    return next((method for method in PAYMENT_METHODS if method.code == code), None)
