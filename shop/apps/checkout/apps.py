import oscar.apps.checkout.apps as apps
from django.urls import path
from django.views.generic import RedirectView
from oscar.core.loading import get_class


class CheckoutConfig(apps.CheckoutConfig):
    """
    Three steps instead of Oscar's five: «Контакты и доставка» (``checkout:index``: email,
    name, phone, courier address or pickup point), «Оплата» (``payment-details``) and
    «Подтверждение» (``preview``). Oscar's gateway, address and method URLs stay, leading
    to the first step, because Oscar's pre-conditions send customers to them.
    """

    name = "shop.apps.checkout"

    def ready(self):
        super().ready()
        self.delivery_view = get_class("checkout.views", "DeliveryView")

    def get_urls(self):
        to_first_step = RedirectView.as_view(pattern_name="checkout:index", permanent=False)
        urls = [
            path("", self.delivery_view.as_view(), name="index"),
            path("shipping-address/", to_first_step, name="shipping-address"),
            path("shipping-method/", to_first_step, name="shipping-method"),
            path("user-address/edit/<int:pk>/", self.user_address_update_view.as_view(), name="user-address-update"),
            path(
                "user-address/delete/<int:pk>/", self.user_address_delete_view.as_view(), name="user-address-delete"
            ),
            path("payment-method/", self.payment_method_view.as_view(), name="payment-method"),
            path("payment-details/", self.payment_details_view.as_view(), name="payment-details"),
            path("preview/", self.payment_details_view.as_view(preview=True), name="preview"),
            path("thank-you/", self.thankyou_view.as_view(), name="thank-you"),
        ]
        return self.post_process_urls(urls)
