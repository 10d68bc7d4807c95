"""
What 1C reads back.

1C looks at the first line of the body only: ``success``, ``progress`` or ``failure``;
anything else (an HTML error page, a login redirect, "OK") is an unknown status and the
exchange of that file fails. Reason lines follow the first line and are shown to 1C's
operator, so they say what went wrong and what to do, in Russian. Only ``type=sale``'s
``query`` and ``info`` answer an XML document instead.

The one exception is a successful ``mode=init``: 1C reads its answer by position, "two
lines: zip=yes|no, file_limit=<bytes>" (Bitrix's documentation and every server 1C was
written against), so it starts with ``zip=`` and carries no status line
(:func:`parameters`). A failed init still answers ``failure``.
"""

from dataclasses import dataclass

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers

SUCCESS, PROGRESS, FAILURE = "success", "progress", "failure"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """A status and its reason lines, before it becomes an HTTP response."""

    status: str
    lines: tuple = ()

    def response(self):
        return text(self.status, *self.lines)


class ExchangeFailure(Exception):
    """Raised anywhere under a handler to answer ``failure`` with these reason lines."""

    def __init__(self, *lines):
        self.lines = tuple(str(line) for line in lines if line not in (None, ""))
        super().__init__("; ".join(self.lines))


def text(status, *lines):
    """A plain-text answer: the status on the first line, then the reason lines."""
    body_lines = [status]
    for line in lines:
        if line in (None, ""):
            continue
        # A reason never forges a status line of its own: keep its lines, drop CRs.
        body_lines.extend(str(line).replace("\r", "").split("\n"))
    response = HttpResponse("\n".join(body_lines), content_type=TEXT_CONTENT_TYPE)
    add_never_cache_headers(response)
    return response


def parameters(*lines):
    """A successful ``mode=init``: ``name=value`` lines only, ``zip=`` first."""
    response = HttpResponse("\n".join(lines), content_type=TEXT_CONTENT_TYPE)
    add_never_cache_headers(response)
    return response


def success(*lines):
    return text(SUCCESS, *lines)


def progress(*lines):
    return text(PROGRESS, *lines)


def failure(*lines):
    return text(FAILURE, *lines)


def document(body, charset):
    """An XML document (``type=sale``): the Content-Type names its real encoding."""
    response = HttpResponse(body, content_type=f"application/xml; charset={charset}")
    add_never_cache_headers(response)
    return response


def internal_failure(exc, logger, what="1C exchange call"):
    """
    ``failure`` for an unexpected exception: a reason an operator can act on and an
    incident number to find the details in the site's log, but never the exception's
    own text (it names database hosts, ports, drivers and paths to whoever calls).
    """
    import secrets

    from django.db import DatabaseError

    incident = secrets.token_hex(4)
    logger.error("%s failed (incident %s)", what, incident, exc_info=(type(exc), exc, exc.__traceback__))
    if isinstance(exc, DatabaseError):
        reason = "База данных сайта недоступна или не ответила: запрос обмена не выполнен, данные не изменены."
    else:
        reason = "Внутренняя ошибка сайта: запрос обмена не выполнен."
    response = failure(reason, f"Повторите обмен позже. Подробности — в журнале сайта, номер ошибки {incident}.")
    #: For the exchange journal (admins only), never for the caller.
    response.exchange_detail = f"{type(exc).__name__}: {exc}"[:2000]
    return response
