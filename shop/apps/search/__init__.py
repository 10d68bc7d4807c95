default_app_config = 'shop.apps.search.apps.SearchConfig'
