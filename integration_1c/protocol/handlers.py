"""
One function per ``mode`` of the protocol. Each takes ``(request, exchange_type,
params)`` and returns an HTTP response, or raises
:class:`~integration_1c.protocol.answers.ExchangeFailure` to answer ``failure``.

The services that do the work are imported by name when needed
(:func:`.pipeline.load_service`): ``importer`` and ``catalogue`` for the catalogue,
``orders`` for ``type=sale``.
"""

import re
import unicodedata
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from integration_1c import conf
from integration_1c.models import ExchangeFile, ExchangeSession
from integration_1c.selectors import run_started_at

from . import auth, pipeline, sessions
from .answers import SUCCESS, Answer, ExchangeFailure, document, parameters, success
from .names import UnsafeName, clean_name, normalise_name

_VERSION = re.compile(r"^\d{1,2}(\.\d{1,3}){0,2}$")
#: A deactivate timestamp later than now by more than this is not one checkauth gave.
DEACTIVATE_CLOCK_SKEW = timedelta(minutes=5)


def checkauth(request, exchange_type, params):
    """
    ``success``, the session cookie's name and value, ``sessid=`` and ``timestamp=``.
    The cookie is the real Django session cookie, so later calls need nothing else.
    """
    user = auth.authenticate_client(request)
    session = sessions.start(request, user, exchange_type)
    pipeline.load_service("journal").session_started(session)  # the earlier cycle is over
    request.exchange_session = session
    return success(
        settings.SESSION_COOKIE_NAME,
        request.session.session_key,
        f"sessid={session.token}",
        f"timestamp={int(session.started_at.timestamp())}",
    )


def init(request, exchange_type, params):
    """
    ``zip=``, ``file_limit=`` (and ``sessid=``, ``version=`` for clients that sent their
    schema version), with no status line: 1C reads these lines by position. Starts the
    session's upload folder; folders of earlier exchanges are removed by age, by the
    worker (:func:`.pipeline.schedule_cleanup`), never by another exchange's init.
    """
    session = _session(request, exchange_type)
    version = params.get("version", "").strip()
    if version and not _VERSION.match(version):
        raise ExchangeFailure(f"Непонятная версия схемы version=«{_printable(version)}».")
    sessions.ensure_folder(session)
    if version and version != session.schema_version:
        ExchangeSession.objects.filter(pk=session.pk).update(schema_version=version)
    pipeline.schedule_cleanup()
    pipeline.drop_unused_checkauth_sessions(session)
    lines = [
        f"zip={'yes' if conf.get('ONEC_USE_ZIP') else 'no'}",
        f"file_limit={int(conf.get('ONEC_FILE_LIMIT'))}",
    ]
    if version:
        # We read every schema 1C writes, so we accept the client's own version.
        lines += [f"sessid={session.token}", f"version={version}"]
    return parameters(*lines)


def upload(request, exchange_type, params):
    """``mode=file``: append the raw POST body to the named file of the session."""
    session = _session(request, exchange_type)
    name = _filename(params)
    sessions.ensure_folder(session)
    pipeline.receive_chunk(session, name, request)
    return success()


def sale_upload(request, exchange_type, params):
    """
    ``type=sale&mode=file``: as :func:`upload`, and a complete XML document is applied
    at once (old clients never call ``mode=import`` for it); a document that came in
    several chunks is queued instead, and ``mode=import`` reports on it as usual.
    A chunk smaller than ``file_limit`` is the last one of its file.
    """
    session = _session(request, exchange_type)
    name = _filename(params)
    sessions.ensure_folder(session)
    exchange_file, size = pipeline.receive_chunk(session, name, request)
    if exchange_file.kind != "" or not pipeline.is_complete_chunk(size):
        return success()
    if exchange_file.chunks > 1:
        pipeline.queue_import(exchange_file)
        return success()
    exchange_file = pipeline.apply_now(exchange_file)
    if exchange_file.state == ExchangeFile.FAILED:
        raise ExchangeFailure(exchange_file.error or f"Документ «{name}» не загружен.")
    return success(*sale_report(exchange_file))


def import_file(request, exchange_type, params):
    """
    ``mode=import``: ``progress`` until the named file is applied, then ``success`` or
    ``failure``. For ``type=sale`` the success carries what the shop could not apply.
    """
    session = _session(request, exchange_type)
    name = _filename(params)
    answer = pipeline.import_step(session, name)
    if exchange_type == ExchangeSession.SALE and answer.status == SUCCESS:
        exchange_file = session.files.filter(name=name).order_by("-pk").first()
        answer = Answer(SUCCESS, (*answer.lines, *sale_report(exchange_file)))
    return answer.response()


#: Lines of a sale report after ``success``: 1C shows them to its operator.
SALE_REPORT_LINES = 50


def sale_report(exchange_file):
    """
    What the shop could not apply of 1C's order documents (orders it does not know,
    totals that differ, statuses it cannot map), for the lines after ``success`` — as
    1C-Bitrix appends them for old clients — besides the journal, which keeps them all.
    """
    if exchange_file is None:
        return []
    prefix = f"{exchange_file.name}: "
    lines = [line[len(prefix) :] if line.startswith(prefix) else line for line in exchange_file.warnings or []]
    if len(lines) > SALE_REPORT_LINES:
        rest = len(lines) - SALE_REPORT_LINES
        lines = [*lines[:SALE_REPORT_LINES], f"… и ещё {rest}: см. журнал обмена на сайте."]
    return lines


def deactivate(request, exchange_type, params):
    """
    ``mode=deactivate&timestamp=``: as 1C-Bitrix, hide in the catalogues whose full
    package started since the checkauth ``timestamp`` what was not touched since then
    (:func:`integration_1c.services.catalogue.deactivate_untouched`). A run that sent
    only offers, prices or rests hides nothing. The timestamp is required: without it
    (or with one that is not a checkauth time) the answer is ``failure`` — hiding on a
    guess can empty the shop. Clients that log in again for every file send the
    timestamp of their last checkauth, so the start of the whole run is used when it
    is earlier.
    """
    session = _session(request, exchange_type)
    raw = params.get("timestamp")
    if raw in (None, ""):
        raise ExchangeFailure(
            "Не передан timestamp: mode=deactivate ожидает время из ответа на checkauth (timestamp=…).",
            "Ничего не скрыто.",
        )
    stamp = _timestamp(raw, default=None)
    if stamp.year < 2000 or stamp > timezone.now() + DEACTIVATE_CLOCK_SKEW:
        raise ExchangeFailure(
            f"timestamp=«{_printable(raw)}» не похож на время из ответа на checkauth.",
            "Ничего не скрыто.",
        )
    run_start = run_started_at(session) or stamp
    since = min(stamp, run_start)
    products, groups = pipeline.load_service("catalogue").deactivate_untouched(since=since)
    return success(f"Скрыто товаров: {products}, групп: {groups}")


def complete(request, exchange_type, params):
    """``mode=complete``: the exchange is over."""
    session = _session(request, exchange_type)
    ExchangeSession.objects.filter(pk=session.pk).update(
        state=ExchangeSession.COMPLETE, finished_at=timezone.now()
    )
    return success()


def sale_query(request, exchange_type, params):
    """``type=sale&mode=query``: the orders 1C has not acknowledged, as CommerceML."""
    session = _session(request, exchange_type)
    body, charset = pipeline.load_service("orders").build_query_answer(session)
    return document(body, charset)


def sale_success(request, exchange_type, params):
    """``type=sale&mode=success``: 1C stored the last query answer."""
    session = _session(request, exchange_type)
    pipeline.load_service("orders").acknowledge(session)
    return success()


def sale_info(request, exchange_type, params):
    """``type=sale&mode=info``: the site's statuses, payment and delivery methods for 1C to map."""
    _session(request, exchange_type)
    body, charset = pipeline.load_service("orders").info_document()
    return document(body, charset)


ROUTES = {
    (ExchangeSession.CATALOG, "checkauth"): checkauth,
    (ExchangeSession.CATALOG, "init"): init,
    (ExchangeSession.CATALOG, "file"): upload,
    (ExchangeSession.CATALOG, "import"): import_file,
    (ExchangeSession.CATALOG, "deactivate"): deactivate,
    (ExchangeSession.CATALOG, "complete"): complete,
    (ExchangeSession.SALE, "checkauth"): checkauth,
    (ExchangeSession.SALE, "init"): init,
    (ExchangeSession.SALE, "query"): sale_query,
    (ExchangeSession.SALE, "success"): sale_success,
    (ExchangeSession.SALE, "info"): sale_info,
    (ExchangeSession.SALE, "file"): sale_upload,
    (ExchangeSession.SALE, "import"): import_file,
    (ExchangeSession.SALE, "complete"): complete,
}


def _session(request, exchange_type):
    session = sessions.resolve(request, exchange_type)
    request.exchange_session = session  # for the journal, should the call fail
    return session


def _filename(params):
    name = params.get("filename")
    if not name:
        raise ExchangeFailure("Не указано имя файла (параметр filename).")
    try:
        return clean_name(normalise_name(name))
    except UnsafeName as exc:
        raise ExchangeFailure(f"Недопустимое имя файла «{_printable(name)}»: {exc.reason}.") from exc


def _timestamp(value, default):
    if value in (None, ""):
        return default
    try:
        return datetime.fromtimestamp(int(value.strip()), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise ExchangeFailure(
            f"Непонятное значение timestamp=«{_printable(value)}»: ожидается время Unix из ответа на checkauth."
        ) from exc


def _printable(value):
    """A name as it can be shown in one line: control characters escaped."""
    return "".join(
        char.encode("unicode_escape").decode("ascii") if unicodedata.category(char) == "Cc" else char
        for char in value
    )[:300]
