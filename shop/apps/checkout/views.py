"""
Checkout without a payment provider: the payment step asks how the customer will pay
(``payment.PAYMENT_METHODS``) and placing the order records that choice.

Oscar's flow is kept: … → payment-method (skipped) → payment-details ("3. Payment":
the choice, posted to the preview) → preview ("4. Preview") → place order → thank-you.
"""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from oscar.apps.checkout import exceptions, views
from oscar.core.loading import get_class

from .forms import PaymentMethodForm
from .payment import get_payment_method

UnableToTakePayment = get_class("payment.exceptions", "UnableToTakePayment")


class PaymentDetailsView(views.PaymentDetailsView):
    """The payment step (choose a payment method), the preview, and placing the order."""

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
        if "payment_method_form" not in context:
            context["payment_method_form"] = PaymentMethodForm(
                initial={"payment_method": method.code} if method else None
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
