default_app_config = 'shop.apps.checkout.apps.CheckoutConfig'
