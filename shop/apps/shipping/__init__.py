default_app_config = 'shop.apps.shipping.apps.ShippingConfig'
