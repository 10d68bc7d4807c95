"""Oscar's e-mail editor, previewing e-mails with the shop's name and contacts from the admin."""

from oscar.apps.dashboard.communications import views as oscar_views

from shop.identity import email_context


class UpdateView(oscar_views.UpdateView):
    def get_messages_context(self, form):
        """Oscar's preview renders without the dispatcher: give it what the dispatcher gives."""
        context = super().get_messages_context(form)
        context.update(email_context(context["site"]))
        return context
