"""
Order tracking for guests: the order number and the email or phone given at checkout
lead to the order's page (Oscar's guest order page, ``customer:anon-order``), as the
signed link in the emails does.

Look-ups are rate limited with Django's cache (Redis in production, shared by every web
process): failed attempts are counted per client address and per order number in a
fixed window (``SHOP_ORDER_LOOKUP_ATTEMPTS`` in ``SHOP_ORDER_LOOKUP_WINDOW`` seconds), so
neither guessing many numbers from one address nor one order's contacts from many
addresses gets far. A successful look-up does not count.
"""

import hashlib
import math
import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic
from oscar.core.loading import get_model

from .phone import to_e164

Order = get_model("order", "Order")


def client_address(request):
    """
    The client's IP: ``REMOTE_ADDR``, or with ``SHOP_PROXY_COUNT`` = N trusted proxies in
    front (nginx in docker-compose: 1), the N-th address from the end of X-Forwarded-For.
    """
    proxies = int(getattr(settings, "SHOP_PROXY_COUNT", 0) or 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


class LookupLimiter:
    """Failed look-ups counted in the cache, per key, in fixed windows."""

    prefix = "order-lookup"

    def __init__(self, keys, attempts=None, window=None):
        self.keys = [f"{self.prefix}:{hashlib.sha256(key.encode()).hexdigest()[:32]}" for key in keys if key]
        self.attempts = attempts or settings.SHOP_ORDER_LOOKUP_ATTEMPTS
        self.window = window or settings.SHOP_ORDER_LOOKUP_WINDOW

    def is_blocked(self):
        counts = cache.get_many(self.keys)
        return any(int(value.get("count", 0)) >= self.attempts for value in counts.values())

    def retry_after(self):
        """Seconds until the longest-blocked key opens again."""
        now = time.time()
        ends = [value.get("until", now) for value in cache.get_many(self.keys).values()]
        return max(0, int(max(ends, default=now) - now))

    def failed(self):
        now = time.time()
        for key in self.keys:
            value = cache.get(key) or {"count": 0, "until": now + self.window}
            value["count"] = int(value["count"]) + 1
            cache.set(key, value, timeout=max(1, int(value["until"] - now)))


class OrderLookupForm(forms.Form):
    number = forms.CharField(
        label=_("Order number"),
        max_length=128,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    contact = forms.CharField(
        label=_("Email or phone given with the order"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "email"}),
    )

    def clean_number(self):
        return self.cleaned_data["number"].strip().lstrip("№#").strip()

    def find_order(self):
        """The order whose number and email or phone match, or None."""
        number, contact = self.cleaned_data["number"], self.cleaned_data["contact"].strip()
        order = Order.objects.filter(number=number).select_related("shipping_address", "user").first()
        if order is None or not contact:
            return None
        if "@" in contact:
            return order if (order.email or "").strip().casefold() == contact.casefold() else None
        phone = to_e164(contact)
        address = order.shipping_address
        if phone and address is not None and address.phone_number and str(address.phone_number) == phone:
            return order
        return None


class OrderLookupView(generic.FormView):
    """«Где мой заказ?»: number + email or phone → the order's page."""

    form_class = OrderLookupForm
    template_name = "oscar/customer/order_lookup.html"

    def limiter(self, number=""):
        return LookupLimiter([f"ip:{client_address(self.request)}", f"number:{number}" if number else ""])

    def get_initial(self):
        return {"number": self.request.GET.get("number", "")}

    def form_valid(self, form):
        limiter = self.limiter(form.cleaned_data["number"])
        if limiter.is_blocked():
            return self.refuse(form, limiter)
        order = form.find_order()
        if order is None:
            limiter.failed()
            if limiter.is_blocked():
                return self.refuse(form, limiter)
            form.add_error(
                None,
                _("We found no order with this number and this email or phone. Check them and try again."),
            )
            return self.form_invalid(form)
        if order.user_id:
            messages.info(self.request, _("This order was placed in a customer account: sign in to see it."))
            next_url = reverse("customer:order", kwargs={"order_number": order.number})
            return redirect(f"{reverse('customer:login')}?next={next_url}")
        # Oscar's guest order page checks the signed number and the email kept in the session.
        self.request.session["anon_order_email"] = order.email
        return redirect("customer:anon-order", order_number=order.number, hash=order.verification_hash())

    def refuse(self, form, limiter):
        minutes = max(1, math.ceil(limiter.retry_after() / 60))
        form.add_error(
            None,
            _("Too many attempts to find an order. Please try again in %(minutes)d min.") % {"minutes": minutes},
        )
        response = self.form_invalid(form)
        response.status_code = 429
        return response
