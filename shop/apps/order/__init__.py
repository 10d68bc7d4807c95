default_app_config = 'shop.apps.order.apps.OrderConfig'
