"""
Admin: the exchange journal. Every exchange 1C made with the site, its files and what
importing them did; a running import shows how far it got and refreshes by itself (the
page polls ``<session>/progress/``, a small JSON view). A journal is a record, so nothing
here can be added or edited (staff with the view permission read it).

Opening the journal also ends the exchanges that are over (``services.journal``), so a
shop without Celery beat (the embedded default) shows «Завершён» as well.
"""

from datetime import UTC, datetime

from django.contrib import admin
from django.db.models import Count, Q, Sum
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integration_1c import selectors
from integration_1c.models import ExchangeFile, ExchangeSession
from integration_1c.protocol import pipeline
from integration_1c.services import journal

#: What a file's counts count, by the file's kind.
COUNT_LABELS = {
    "catalogue": {
        "created": _("groups and products created"),
        "updated": _("groups and products updated"),
        "hidden": _("groups and products hidden"),
        "skipped": _("records skipped"),
    },
    "classifier": {
        "created": _("groups and properties created"),
        "updated": _("groups and properties updated"),
        "hidden": _("groups hidden"),
        "skipped": _("records skipped"),
    },
    "offers": {
        "created": _("variants created"),
        "updated": _("offers updated (prices and stock)"),
        "hidden": _("products hidden"),
        "skipped": _("offers skipped"),
    },
    "orders": {
        "created": _("orders created"),
        "updated": _("orders updated from 1C"),
        "hidden": _("orders hidden"),
        "skipped": _("documents skipped"),
    },
}
COUNT_LABELS["offers_changes"] = COUNT_LABELS["offers"]
DEFAULT_COUNT_LABELS = {
    "created": _("records created"),
    "updated": _("records updated"),
    "hidden": _("records hidden"),
    "skipped": _("records skipped"),
}

KIND_LABELS = {
    "catalogue": _("catalogue (groups, properties, products)"),
    "classifier": _("classifier (groups and properties)"),
    "offers": _("offers (prices and stock)"),
    "offers_changes": _("changes of offers"),
    "orders": _("orders"),
    "archive": _("zip archive"),
    "attachment": _("picture or attachment"),
    "": _("not read yet"),
}

#: What the 1C operator should do, by what the error says (the first match wins).
ADVICE = (
    (
        ("не найден в папке обмена", "не был загружен"),
        _("Run the exchange in 1C again: the file will be sent anew."),
    ),
    (
        ("база данных отказала", "Внутренняя ошибка сайта"),
        _(
            "The site could not save the data: tell the site's administrator (the details are in the "
            "site's log). Nothing was changed; 1C sends the file again at its next exchange."
        ),
    ),
    (
        ("не завершилась за", "снята с очереди"),
        _(
            "The site's import worker did not take the file: tell the site's administrator "
            "(the Celery worker must run), then run the exchange again."
        ),
    ),
    (
        ("архив", "Архив", "zip"),
        _("Check the archive in 1C's exchange settings (or turn off zip) and run the exchange again."),
    ),
)
DEFAULT_ADVICE = _(
    "The catalogue on the site is unchanged. Check the data named above in 1C, or the exchange "
    "node's settings (the CommerceML version), and run the exchange again; 1C sends the file again."
)


def _local_moment(text):
    """An ISO time from the session's messages (UTC) as local time."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return text or ""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M:%S")


def failure_advice(error):
    """What the 1C operator should do about ``error`` (a file's or a call's failure)."""
    for needles, advice in ADVICE:
        if any(needle in (error or "") for needle in needles):
            return advice
    return DEFAULT_ADVICE


def human_size(size):
    if size >= 1024 * 1024:
        return gettext("%s MB") % number_format(size / 1024 / 1024, 1)
    if size >= 1024:
        return gettext("%s KB") % number_format(size / 1024, 0)
    return gettext("%s bytes") % size


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return gettext("%d s") % seconds
    if seconds < 3600:
        return gettext("%(m)d min %(s)d s") % {"m": seconds // 60, "s": seconds % 60}
    return gettext("%(h)d h %(m)d min") % {"h": seconds // 3600, "m": seconds % 3600 // 60}


def progress_figures(exchange_file):
    """The figures of :func:`selectors.file_progress` in words, for the page and its JSON."""
    figures = selectors.file_progress(exchange_file)
    parts = [
        ngettext("%(n)s record processed", "%(n)s records processed", figures["processed"])
        % {"n": number_format(figures["processed"], force_grouping=True)}
    ]
    if figures["share"] is not None and exchange_file.state == ExchangeFile.RUNNING:
        parts.append(gettext("%(p)s%% of the file read") % {"p": number_format(figures["share"] * 100, 0)})
    if figures["rate"]:
        parts.append(gettext("%(r)s records/s") % {"r": number_format(figures["rate"], 0, force_grouping=True)})
    if figures["seconds_left"] is not None and exchange_file.state == ExchangeFile.RUNNING:
        parts.append(gettext("about %(t)s left") % {"t": _duration(figures["seconds_left"])})
    elif figures["elapsed"] and exchange_file.state != ExchangeFile.RUNNING:
        parts.append(gettext("took %(t)s") % {"t": _duration(figures["elapsed"])})
    return {**figures, "text": " · ".join(parts), "percent": round((figures["share"] or 0) * 100)}


def state_label(exchange_file):
    if exchange_file.state == ExchangeFile.QUEUED:
        return gettext("waiting for the import worker")
    return str(exchange_file.get_state_display())


def products_url(exchange_file, change):
    try:
        base = reverse("dashboard:catalogue-product-list")
    except NoReverseMatch:
        return ""
    return f"{base}?onec_file={exchange_file.pk}&onec_change={change}"


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
    verbose_name = _("file")
    verbose_name_plural = _("Files of the exchange")
    fields = readonly_fields = ("file", "state_and_progress", "counts", "warnings_list", "error_text", "times")

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(kind=pipeline.ATTACHMENT)

    @admin.display(description=_("File"))
    def file(self, obj):
        return format_html(
            "<strong>{}</strong><br><small>{}, {}</small>",
            obj.name,
            human_size(obj.size),
            KIND_LABELS.get(obj.kind, obj.kind),
        )

    @admin.display(description=_("State and progress"))
    def state_and_progress(self, obj):
        figures = progress_figures(obj)
        bar = ""
        if obj.state == ExchangeFile.RUNNING:
            bar = format_html(
                '<progress class="onec-bar" max="100" value="{}"></progress><br>', figures["percent"]
            )
        return format_html(
            '<div class="onec-file" data-file="{}" data-state="{}"><strong class="onec-state">{}</strong><br>'
            '{}<span class="onec-progress">{}</span></div>',
            obj.pk,
            obj.state,
            state_label(obj),
            bar,
            figures["text"] if obj.state in (ExchangeFile.RUNNING, ExchangeFile.DONE) else "",
        )

    @admin.display(description=_("Result"))
    def counts(self, obj):
        if obj.state != ExchangeFile.DONE:
            return "—"
        labels = COUNT_LABELS.get(obj.kind, DEFAULT_COUNT_LABELS)
        rows = []
        for change in ("created", "updated", "hidden", "skipped"):
            value = getattr(obj, change)
            if not value:
                continue
            link = ""
            if change != "skipped" and obj.kind not in ("orders", "classifier"):
                url = products_url(obj, change)
                if url:
                    link = format_html(' — <a href="{}">{}</a>', url, gettext("show the products"))
            rows.append((number_format(value, force_grouping=True), labels[change], link))
        if not rows:
            return gettext("nothing changed")
        return format_html_join("", "<div>{} {}{}</div>", rows)

    @admin.display(description=_("Warnings"))
    def warnings_list(self, obj):
        groups = selectors.grouped_warnings(obj.warnings)
        if not groups:
            return "—"
        return format_html_join(
            "",
            "<details><summary>{} — {}</summary><ul>{}</ul></details>",
            (
                (
                    group["count"],
                    group["kind"],
                    format_html_join("", "<li>{}</li>", ((example,) for example in group["examples"])),
                )
                for group in groups
            ),
        )

    @admin.display(description=_("Error"))
    def error_text(self, obj):
        if not obj.error:
            return "—"
        return format_html(
            '<div class="onec-error"><strong>{}</strong> {}<br><strong>{}</strong> {}</div>',
            gettext("What happened:"),
            obj.error,
            gettext("What to do in 1C:"),
            failure_advice(obj.error),
        )

    @admin.display(description=_("Time"))
    def times(self, obj):
        def moment(value):
            return timezone.localtime(value).strftime("%d.%m.%Y %H:%M:%S") if value else "—"

        return format_html(
            "{} {}<br>{} {}",
            gettext("uploaded"),
            moment(obj.uploaded_at),
            gettext("imported"),
            moment(obj.finished_at) if obj.finished_at else moment(obj.started_at),
        )


SESSION_STATE_COLOURS = {
    ExchangeSession.OPEN: "#205067",
    ExchangeSession.COMPLETE: "#2e7d32",
    ExchangeSession.FAILED: "#ba2121",
}


@admin.register(ExchangeSession)
class ExchangeJournalAdmin(ReadOnlyMixin, admin.ModelAdmin):
    change_form_template = "integration_1c/admin/exchangesession_change_form.html"
    list_display = (
        "title",
        "exchange_type",
        "state_badge",
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
        "state_badge",
        "user",
        "remote_addr",
        "user_agent",
        "schema_version",
        "started_at",
        "last_seen_at",
        "finished_at",
        "attachments",
        "messages_list",
        "token",
        "folder",
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

    def changelist_view(self, request, extra_context=None):
        journal.close_finished()
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        journal.close_finished()
        context = {"progress_url": reverse("admin:integration_1c_exchangesession_progress", args=[object_id])}
        return super().change_view(request, object_id, form_url, {**context, **(extra_context or {})})

    def get_urls(self):
        return [
            path(
                "<int:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="integration_1c_exchangesession_progress",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request, object_id):
        """JSON for the change page: the session's state and each file's figures."""
        if not self.has_view_permission(request):
            return JsonResponse({"error": "forbidden"}, status=403)
        session = get_object_or_404(ExchangeSession, pk=object_id)
        files = session.files.exclude(kind=pipeline.ATTACHMENT).order_by("uploaded_at", "pk")
        return JsonResponse(
            {
                "state": session.state,
                "state_label": str(session.get_state_display()),
                "files": [
                    {
                        "id": exchange_file.pk,
                        "name": exchange_file.name,
                        "state": exchange_file.state,
                        "state_label": state_label(exchange_file),
                        **{
                            key: value
                            for key, value in progress_figures(exchange_file).items()
                            if key in ("processed", "share", "rate", "seconds_left", "text", "percent")
                        },
                    }
                    for exchange_file in files
                ],
            }
        )

    @admin.display(description=_("Exchange"), ordering="started_at")
    def title(self, obj):
        return str(obj)

    @admin.display(description=_("State"), ordering="state")
    def state_badge(self, obj):
        return format_html(
            '<strong class="onec-session-state" data-state="{}" style="color: {}">{}</strong>',
            obj.state,
            SESSION_STATE_COLOURS.get(obj.state, "#666"),
            obj.get_state_display(),
        )

    @admin.display(description=_("Files"), ordering="files_total")
    def files_count(self, obj):
        return obj.files_total

    @admin.display(description=_("Failed files"), ordering="files_failed")
    def failed_files(self, obj):
        return obj.files_failed

    @admin.display(description=_("Pictures and other attachments"))
    def attachments(self, obj):
        # Pictures sent as files of their own have a row each; those an archive left
        # packed are counted on the archive's row (``protocol.packed_index``).
        figures = obj.files.aggregate(
            rows=Count("pk", filter=Q(kind=pipeline.ATTACHMENT)), packed=Sum("packed_members")
        )
        return figures["rows"] + (figures["packed"] or 0)

    @admin.display(description=_("Messages"))
    def messages_list(self, obj):
        messages = obj.messages or []
        if not messages:
            return "—"
        return format_html_join(
            "\n",
            "<div>{} {}: {}<br><small>{} {}</small></div>",
            (
                (
                    _local_moment(entry.get("at", "")),
                    entry.get("mode", ""),
                    entry.get("message", ""),
                    gettext("What to do in 1C:"),
                    failure_advice(entry.get("message", "")),
                )
                if isinstance(entry, dict)
                else ("", "", str(entry), gettext("What to do in 1C:"), failure_advice(str(entry)))
                for entry in messages
            ),
        )
