import oscar.apps.communication.apps as apps


class CommunicationConfig(apps.CommunicationConfig):
    """
    Oscar's communication app, forked for its ``Dispatcher`` (``utils.py``): every e-mail
    the shop sends speaks for the shop as the owner named it in the admin.
    """

    name = "shop.apps.communication"
