"""
The checkout in three steps, without a payment provider:

1. «Контакты и доставка» (:class:`DeliveryView`, ``checkout:index``): the guest's email,
   name and phone (required, E.164, see :mod:`.phone`), courier delivery with the address
   or pickup at a point chosen from the 1C warehouses marked as pickup points, each shown
   with whether it has the whole basket (:mod:`shop.apps.shipping.pickup`);
2. «Оплата» (``payment-details``): how the customer will pay (``payment.PAYMENT_METHODS``);
3. «Подтверждение» (``preview``): everything once more, then placing the order.

The basket summary is beside every step. A pickup order names its point on the order
(``Order.pickup_point*``, copied when placed) and is otherwise an ordinary Oscar order:
its shipping address holds the customer's name and phone, and the point's address.
"""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic
from oscar.apps.checkout import exceptions, views
from oscar.core.loading import get_class, get_model

from shop.apps.shipping import pickup

from .forms import DeliveryForm, PaymentMethodForm
from .payment import PAYMENT_METHODS, get_payment_method

UnableToTakePayment = get_class("payment.exceptions", "UnableToTakePayment")
CheckoutSessionMixin = get_class("checkout.session", "CheckoutSessionMixin")
Repository = get_class("shipping.repository", "Repository")
Country = get_model("address", "Country")
UserAddress = get_model("address", "UserAddress")

PICKUP = "pickup"


def shipping_countries():
    """Countries the courier delivers to (``setup_shop`` marks ``SHOP_SHIPPING_COUNTRIES``)."""
    return list(Country.objects.filter(is_shipping_country=True).order_by("display_order", "printable_name"))


class DeliveryChecksMixin:
    """What every step after the first needs from it, and what placing an order takes from it."""

    def chosen_pickup_point(self):
        return pickup.find_pickup_point(self.checkout_session.pickup_point_code())

    def is_pickup(self):
        return self.checkout_session.shipping_method_code(self.request.basket) == PICKUP

    def check_shipping_data_is_captured(self, request):
        super().check_shipping_data_is_captured(request)
        fields = self.checkout_session.new_shipping_address_fields() or {}
        if not fields.get("phone_number"):
            raise exceptions.FailedPreCondition(
                url=reverse("checkout:index"), message=_("Enter your phone number: we call or text about the order.")
            )
        if self.is_pickup() and self.chosen_pickup_point() is None:
            raise exceptions.FailedPreCondition(url=reverse("checkout:index"), message=_("Choose the pickup point."))

    def build_submission(self, **kwargs):
        submission = super().build_submission(**kwargs)
        method = submission.get("shipping_method")
        if method is not None and method.code == PICKUP:
            point = self.chosen_pickup_point()
            if point is not None:
                submission["order_kwargs"].update(
                    pickup_point=point,
                    pickup_point_code=point.code,
                    pickup_point_name=point.name,
                    pickup_point_address=point.pickup_address,
                    pickup_point_hours=point.pickup_hours,
                )
        return submission

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["pickup_option"] = None
        point = context.get("pickup_point")
        if point is not None:
            context["pickup_option"] = pickup.pickup_options(self.request.basket, [point])[0]
        return context


class DeliveryView(CheckoutSessionMixin, generic.FormView):
    """Step 1, «Контакты и доставка»: everything about the customer and the delivery on one page."""

    template_name = "oscar/checkout/delivery.html"
    form_class = DeliveryForm
    pre_conditions = ["check_basket_is_not_empty", "check_basket_is_valid"]

    def dispatch(self, request, *args, **kwargs):
        self.basket = request.basket
        return super().dispatch(request, *args, **kwargs)

    # --- What the step offers ---------------------------------------------------

    def get_methods(self):
        if not hasattr(self, "_methods"):
            self._methods = list(
                Repository().get_shipping_methods(
                    basket=self.request.basket, user=self.request.user, request=self.request
                )
            )
        return self._methods

    def get_pickup_options(self):
        if not hasattr(self, "_pickup_options"):
            offered = any(method.code == PICKUP for method in self.get_methods())
            self._pickup_options = pickup.pickup_options(self.request.basket) if offered else []
        return self._pickup_options

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(
            methods=self.get_methods(),
            pickup_options=self.get_pickup_options(),
            countries=shipping_countries(),
            ask_email=not self.request.user.is_authenticated,
        )
        return kwargs

    def get_initial(self):
        initial = dict(self.checkout_session.delivery_form_data())
        user = self.request.user
        if user.is_authenticated and not initial:
            initial.update(first_name=user.first_name, last_name=user.last_name)
            address = UserAddress.objects.filter(user=user, is_default_for_shipping=True).first()
            if address is not None:
                initial.update(
                    first_name=address.first_name or user.first_name,
                    last_name=address.last_name or user.last_name,
                    line1=address.line1,
                    line4=address.line4,
                    postcode=address.postcode,
                    phone_number=str(address.phone_number or ""),
                )
        initial.setdefault("guest_email", self.checkout_session.get_guest_email() or "")
        methods = self.get_methods()
        if "method_code" not in initial and methods:
            initial["method_code"] = methods[0].code
        option = pickup.default_option(self.get_pickup_options(), initial.get("pickup_point"))
        initial["pickup_point"] = option.code if option else ""
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        basket = self.request.basket
        context["methods"] = [
            {"method": method, "charge": method.calculate(basket), "amount_to_free": _amount_to_free(method, basket)}
            for method in self.get_methods()
        ]
        context["pickup_options"] = self.get_pickup_options()
        context["step"] = 1
        return context

    # --- Submission -------------------------------------------------------------

    def form_valid(self, form):
        data = form.cleaned_data
        if "guest_email" in data:
            self.checkout_session.set_guest_email(data["guest_email"])
        method_code = data["method_code"]
        country = form.shipping_country()
        fields = {
            "first_name": data["first_name"].strip(),
            "last_name": data["last_name"].strip(),
            "phone_number": data["phone_number"],
            "notes": data["notes"].strip(),
            "country_id": country.pk if country else None,
        }
        option = None
        if method_code == PICKUP:
            option = form.pickup_option()
            point = option.point
            fields.update(line1=(point.pickup_address or point.name)[:255], line4="", postcode="")
        else:
            fields.update(line1=data["line1"].strip(), line4=data["line4"].strip(), postcode=data["postcode"].strip())
        form_data = {
            name: (value.pk if hasattr(value, "pk") else value)
            for name, value in data.items()
            if name != "guest_email"
        }
        self.checkout_session.set_delivery(
            method_code=method_code,
            address_fields=fields,
            pickup_point_code=option.code if option else "",
            form_data=form_data,
        )
        return redirect("checkout:payment-details")


def _amount_to_free(method, basket):
    amount_to_free = getattr(method, "amount_to_free", None)
    return amount_to_free(basket) if amount_to_free else None


class PaymentDetailsView(DeliveryChecksMixin, views.PaymentDetailsView):
    """Step 2 (choose a payment method), step 3 (the confirmation page), and placing the order."""

    def chosen_payment_method(self):
        """The payment method kept in the checkout session, or None."""
        return get_payment_method(self.checkout_session.payment_method())

    def check_payment_data_is_captured(self, request):
        """The preview and placing the order need a payment method, unless there is nothing to pay."""
        if request.method == "POST" and request.POST.get("action") != "place_order":
            return  # the payment step's own submission: it brings the method
        try:
            self.skip_unless_payment_is_required(request)
        except exceptions.PassedSkipCondition:
            return
        if self.chosen_payment_method() is None:
            raise exceptions.FailedPreCondition(
                url=reverse("checkout:payment-details"), message=_("Please choose a payment method.")
            )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        method = self.chosen_payment_method()
        context["payment_method"] = method
        context["step"] = 3 if self.preview else 2
        user = self.request.user
        context["contact_email"] = user.email if user.is_authenticated else self.checkout_session.get_guest_email()
        if "payment_method_form" not in context:
            # The first method is chosen until the customer picks another: a step with
            # nothing chosen only led to an error message.
            context["payment_method_form"] = PaymentMethodForm(
                initial={"payment_method": (method or PAYMENT_METHODS[0]).code}
            )
        return context

    def handle_payment_details_submission(self, request):
        """The payment step was posted: keep the choice and show the preview (or the step again with errors)."""
        form = PaymentMethodForm(request.POST)
        if not form.is_valid():
            return self.render_payment_details(request, payment_method_form=form)
        self.checkout_session.pay_by(form.cleaned_data["payment_method"])
        # Redirect rather than render, so that reloading the preview does not post again.
        return redirect("checkout:preview")

    def build_submission(self, **kwargs):
        submission = super().build_submission(**kwargs)
        submission["payment_kwargs"]["payment_method"] = self.chosen_payment_method()
        return submission

    def handle_successful_order(self, order):
        """A guest follows the order from the thank-you page without typing the email again."""
        response = super().handle_successful_order(order)
        if not order.user_id:
            self.request.session["anon_order_email"] = order.email
        return response

    def update_address_book(self, user, addr):
        """A pickup order's 'address' is the point's: it does not belong in the customer's address book."""
        if self.is_pickup():
            return
        super().update_address_book(user, addr)

    def handle_payment(self, order_number, total, **kwargs):
        """
        Record how the order will be paid; no money moves now. A Source of the chosen
        method's type gets the whole total allocated (``amount_debited`` stays 0 until
        the shop is paid).
        """
        method = kwargs.get("payment_method")
        if method is None:
            if total.incl_tax == 0:
                return
            raise UnableToTakePayment(_("Please choose a payment method."))
        self.add_payment_source(method.source_for(total))
