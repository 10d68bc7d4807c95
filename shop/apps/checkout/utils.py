from oscar.apps.checkout import utils


class CheckoutSessionData(utils.CheckoutSessionData):
    """
    Oscar's checkout session, plus what the one-page «Контакты и доставка» step keeps:
    the pickup point chosen (its 1C Ид) and the form as the customer filled it, so that
    going back to the step shows their entries.
    """

    def set_delivery(self, *, method_code, address_fields, pickup_point_code="", form_data=None):
        """
        Keep the step's result in one go. ``address_fields`` are ShippingAddress fields
        with the phone already a string (E.164): Oscar's ``ship_to_new_address`` expects
        a PhoneNumber object.
        """
        self.reset_shipping_data()
        self._set("shipping", "new_address_fields", address_fields)
        self._set("shipping", "method_code", method_code)
        self._set("shipping", "pickup_point", pickup_point_code)
        self._set("shipping", "form_data", form_data or {})

    def pickup_point_code(self):
        return self._get("shipping", "pickup_point") or ""

    def delivery_form_data(self):
        return self._get("shipping", "form_data") or {}
