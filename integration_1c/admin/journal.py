"""
Admin: the exchange journal. Every exchange 1C made with the site, its files and what
importing them did; a running import shows how far it got. A journal is a record, so
nothing here can be added or edited (staff with the view permission read it).
"""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from integration_1c.models import ExchangeFile, ExchangeSession
from integration_1c.protocol import pipeline


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ExchangeFileInline(ReadOnlyMixin, admin.TabularInline):
    """The XML files and archives of a session; pictures are only counted (there may be thousands)."""

    model = ExchangeFile
    extra = 0
    can_delete = False
    show_change_link = False
    fields = readonly_fields = (
        "name",
        "size",
        "kind",
        "state",
        "progress",
        "created",
        "updated",
        "hidden",
        "skipped",
        "warnings_list",
        "error",
        "uploaded_at",
        "finished_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(kind=pipeline.ATTACHMENT)

    @admin.display(description=_("Progress"))
    def progress(self, obj):
        if obj.state == ExchangeFile.RUNNING:
            return pipeline.progress_text(obj)
        if obj.state == ExchangeFile.QUEUED:
            return _("waiting for a worker")
        return obj.processed or "—"

    @admin.display(description=_("Warnings"))
    def warnings_list(self, obj):
        warnings = obj.warnings or []
        if not warnings:
            return "—"
        return format_html_join("\n", "<div>{}</div>", ((str(warning),) for warning in warnings))


@admin.register(ExchangeSession)
class ExchangeJournalAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "started_at",
        "exchange_type",
        "state",
        "user",
        "remote_addr",
        "finished_at",
        "files_count",
        "failed_files",
    )
    list_filter = ("exchange_type", "state", "started_at")
    date_hierarchy = "started_at"
    search_fields = ("user__username", "remote_addr", "token", "files__name")
    list_select_related = ("user",)
    inlines = (ExchangeFileInline,)
    fields = readonly_fields = (
        "exchange_type",
        "state",
        "user",
        "remote_addr",
        "user_agent",
        "schema_version",
        "token",
        "folder",
        "started_at",
        "last_seen_at",
        "finished_at",
        "attachments",
        "messages_list",
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                files_total=Count("files", filter=~Q(files__kind=pipeline.ATTACHMENT)),
                files_failed=Count("files", filter=Q(files__state=ExchangeFile.FAILED)),
            )
        )

    @admin.display(description=_("Files"), ordering="files_total")
    def files_count(self, obj):
        return obj.files_total

    @admin.display(description=_("Failed files"), ordering="files_failed")
    def failed_files(self, obj):
        return obj.files_failed

    @admin.display(description=_("Pictures and other attachments"))
    def attachments(self, obj):
        return obj.files.filter(kind=pipeline.ATTACHMENT).count()

    @admin.display(description=_("Messages"))
    def messages_list(self, obj):
        messages = obj.messages or []
        if not messages:
            return "—"
        return format_html_join(
            "\n",
            "<div>{} {}: {}</div>",
            (
                (entry.get("at", ""), entry.get("mode", ""), entry.get("message", ""))
                if isinstance(entry, dict)
                else ("", "", str(entry))
                for entry in messages
            ),
        )
