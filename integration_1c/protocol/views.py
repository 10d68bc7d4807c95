"""
The one URL 1C calls: ``/1c/exchange/`` (and ``/bitrix/admin/1c_exchange.php`` for
shops moving from Bitrix without touching 1C).

Whatever happens, the answer is ``text/plain`` starting with ``success``, ``progress``
or ``failure`` (or, for ``type=sale`` documents, XML): never an HTML error page and
never a redirect to a login page, which 1C would report as an unknown status.
"""

import logging
from urllib.parse import parse_qsl

from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.views.decorators.csrf import csrf_exempt

from . import sessions
from .answers import FAILURE, ExchangeFailure, failure, internal_failure
from .handlers import ROUTES

logger = logging.getLogger("integration_1c.protocol")

#: The modes each exchange type accepts, for the reason of an unknown-mode failure.
MODES = {
    exchange_type: [mode for (kind, mode) in ROUTES if kind == exchange_type] for exchange_type, _ in ROUTES
}


@csrf_exempt
def exchange(request):
    """Dispatch ``type`` and ``mode`` (GET and POST alike) to :mod:`.handlers`."""
    params = {}
    exchange_type = mode = ""
    try:
        params = query_params(request)
        exchange_type = params.get("type", "").strip().lower()
        mode = params.get("mode", "").strip().lower()
        handler = ROUTES.get((exchange_type, mode))
        if handler is None:
            raise ExchangeFailure(_unknown(exchange_type, mode))
        response = handler(request, exchange_type, params)
    except ExchangeFailure as exc:
        response = failure(*exc.lines)
    except Exception as exc:
        response = internal_failure(exc, logger, f"1C exchange type={exchange_type} mode={mode}")
    _log(request, exchange_type, mode, params, response)
    return response


def query_params(request):
    """
    The query string as a dict. Names 1C sends are UTF-8; an old client on Windows may
    send a Cyrillic file name in windows-1251, which Django would turn into "\ufffd".
    """
    raw = get_bytes_from_wsgi(request.environ, "QUERY_STRING", "").decode("latin-1")
    params = {}
    # latin-1 maps bytes to characters one to one: each value comes back as its raw bytes.
    for key, value in parse_qsl(raw, keep_blank_values=True, encoding="latin-1"):
        params.setdefault(_decode(key), _decode(value))
    return params


def _decode(text):
    value = text.encode("latin-1")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("cp1251", errors="replace")


def _unknown(exchange_type, mode):
    if exchange_type not in MODES:
        return (
            f"Неизвестный тип обмена type=«{exchange_type}»: сайт принимает "
            + ", ".join(f"type={name}" for name in MODES)
            + "."
        )
    return (
        f"Неизвестный режим mode=«{mode}» для type={exchange_type}: сайт принимает "
        + ", ".join(MODES[exchange_type])
        + "."
    )


def _log(request, exchange_type, mode, params, response):
    if response.get("Content-Type", "").startswith("text/plain"):
        body = response.content[:1000].decode("utf-8", errors="replace")
    else:
        body = f"<{response.get('Content-Type')}, {len(response.content)} bytes>"
    status = body.split("\n", 1)[0]
    session = getattr(request, "exchange_session", None)
    logger.info(
        "1C exchange: type=%s mode=%s filename=%s session=%s -> %s",
        exchange_type,
        mode,
        params.get("filename", ""),
        getattr(session, "pk", None),
        status,
    )
    if status == FAILURE:
        reason = body.split("\n", 1)[1] if "\n" in body else ""
        detail = getattr(response, "exchange_detail", "")
        if detail:
            reason = f"{reason}\n{detail}"
        logger.warning("1C exchange failure (type=%s mode=%s): %s", exchange_type, mode, reason)
        if session is not None:
            try:
                sessions.note(session, mode, reason)
            except Exception:  # the database may be what failed
                logger.warning("Could not record the failure in the exchange journal", exc_info=True)
