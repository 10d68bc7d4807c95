default_app_config = 'shop.apps.basket.apps.BasketConfig'
