from oscar.apps.communication.admin import *  # noqa: F401,F403
