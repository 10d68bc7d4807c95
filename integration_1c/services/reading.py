"""
A file's records read ahead of the writes.

The writes of an import wait for PostgreSQL most of their time, and the XML can be
parsed meanwhile. The reader is pure (no database, no settings read after it is made:
see ``CommerceMLReader``), so it can run anywhere:

* :func:`read_in_process` — a process of its own (forked from the importer), which hands
  the records over pickled, a chunk at a time. Used for big files on a local disk, read
  by the Celery worker or ``import_1c_folder``. A thread of the importer's process (the
  way below) holds the interpreter's lock while libxml2 parses, because lxml calls back
  into Python for every element: measured on a 100,000-product exchange, parsing took
  40–50 s of the importing thread's time, and every answer of the database waited for
  the interpreter's switch interval (5 ms) before the writes went on. In a process of
  its own the parse runs on the second core; the importer only unpickles (a fifth of the
  parse's cost).
* :func:`read_ahead` — a thread. For small files (a package of changes: forking costs
  more than it saves), files of storages without a local path, and imports that do not
  run in a process's main thread (the embedded shop imports in a thread of its web
  server, which must not fork).

Both give the records in the file's order, raise the reader's errors at the record
where they happened (in the importer's language) and stop their reader when the
consumer stops early. Memory: at most ``depth`` chunks of ``chunk`` records wait.
"""

import logging
import os
import pickle
import queue
import signal
import threading
from multiprocessing.connection import Pipe
from pathlib import Path

from django.utils import translation
from django.utils.translation import gettext as _

from integration_1c.commerceml import reader
from integration_1c.protocol.archives import PackedReader

logger = logging.getLogger(__name__)

#: Records handed over at a time, and chunks the reader may hold ready at the least
#: (:func:`read_ahead_depth`).
READ_AHEAD_CHUNK = 256
READ_AHEAD_CHUNKS = 4
#: Room of the pipe the reading process sends its chunks through: a few chunks of products
#: with their properties, so that the reader parses on while the importer writes.
PIPE_BYTES = 1 << 20
#: Files smaller than this are read by a thread: a package of 100 offers is parsed in less
#: time than a process takes to start.
PROCESS_MIN_BYTES = 4 * 1024 * 1024
_END = "end-of-file"


def read_ahead_depth(batch_size):
    """
    Chunks the reader may hold ready: a whole batch and a chunk more. The writes take a
    batch at a time; with less room the reader stopped half-way through the next batch
    while a batch was written, and the writer then waited, the database idle, for the
    rest of it to be parsed (0.7 s of a 10,000-offer package's 6 s).
    """
    return max(READ_AHEAD_CHUNKS, -(-batch_size // READ_AHEAD_CHUNK) + 1)


def widen_pipe(connection, size):
    """
    Give a pipe (a ``Pipe(duplex=False)`` end) ``size`` bytes of room where the system
    allows (Linux caps it at /proc/sys/fs/pipe-max-size, 1 MB by default; other systems
    keep their size): a writer that hands over big messages then goes on while the
    other side is busy instead of waiting for it to read each one.
    """
    try:
        import fcntl

        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, min(limit, size))
    except (ImportError, AttributeError, OSError, ValueError):
        pass


def may_fork():
    """
    Whether the import may fork helper processes here: only from a process's main thread
    (the Celery worker, ``import_1c_folder``) — never from a thread of the embedded shop's
    web server, whose other threads could hold locks the child would then wait for.
    """
    return hasattr(os, "fork") and threading.current_thread() is threading.main_thread()


def can_fork(path, size=None):
    """
    Whether :func:`read_in_process` may read the file at ``path`` (see the module
    docstring); ``size``: of the member of the archive at ``path`` that is read.
    """
    if not path or not may_fork():
        return False
    return (file_size(path, size) or 0) >= PROCESS_MIN_BYTES


def file_size(path, size=None):
    """``size`` (of the archive's member read at ``path``), else the bytes at ``path``; None when unknown."""
    if size is not None:
        return size
    try:
        return os.path.getsize(path) if path else None
    except OSError:
        return None


# -- a thread ------------------------------------------------------------------------------------


def read_ahead(records, *, chunk=READ_AHEAD_CHUNK, depth=READ_AHEAD_CHUNKS):
    """
    Iterate over ``records`` (a reader's generator, made in this thread) while a thread
    of their own parses ahead. The reader runs under this thread's language, so its
    messages read the same. Its errors are raised here; when the consumer stops early
    (an error in a write), the thread is told to stop and joined.
    """
    ready = queue.Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()

    def put(item):
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run():
        if language:
            translation.activate(language)
        try:
            batch = []
            for record in records:
                batch.append(record)
                if len(batch) >= chunk:
                    if not put(batch):
                        return
                    batch = []
            if batch and not put(batch):
                return
            put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
        finally:
            records.close()

    thread = threading.Thread(target=run, name="1c-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        thread.join()


# -- a process -----------------------------------------------------------------------------------


class ReaderStopped(Exception):
    """The reading process ended without a word (killed, out of memory)."""


class read_in_process:
    """
    Iterate over the records of the CommerceML file at ``path`` parsed by a forked
    process. :meth:`tell` is how far into the file the reader got (the import's
    progress), as the position of an open file would say.

    The process is forked with ``os.fork`` rather than through ``multiprocessing``, which
    refuses children to daemonic processes — and Celery's pool processes are daemonic.
    Chunks travel pickled through a pipe; a thread of the importer receives them into a
    queue of ``depth`` chunks, so the parse runs a whole batch ahead of the writes.
    """

    def __init__(self, path, *, name="", chunk=READ_AHEAD_CHUNK, depth=READ_AHEAD_CHUNKS, packed=None):
        self.path = str(path)
        #: The member of the archive at ``path`` to read (``protocol.archives.Packed``), if any.
        self.packed = packed
        self.name = name
        self.chunk = chunk
        self.depth = depth
        self.position = 0

    def tell(self):
        return self.position

    def __iter__(self):
        receiving, sending = Pipe(duplex=False)
        widen_pipe(sending, PIPE_BYTES)
        language = translation.get_language()
        pid = os.fork()
        if pid == 0:  # the reading process
            receiving.close()
            code = 0
            try:
                _parse(sending, self.path, self.name, self.chunk, language, self.packed)
            except BaseException:  # the importer is gone (a broken pipe): nobody to tell
                code = 1
            finally:
                os._exit(code)
        sending.close()
        ready = queue.Queue(maxsize=self.depth)
        stop = threading.Event()

        def receive():
            try:
                while not stop.is_set():
                    item = receiving.recv()
                    while not stop.is_set():
                        try:
                            ready.put(item, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if item == _END or isinstance(item, BaseException):
                        return
            except (EOFError, OSError):  # the reading process ended without a word
                if not stop.is_set():
                    ready.put(None)

        thread = threading.Thread(target=receive, name="1c-reader", daemon=True)
        thread.start()
        try:
            while True:
                item = ready.get()
                if item is None:
                    raise ReaderStopped(
                        _("%(file)s: the process reading the file stopped (exit code %(code)s)")
                        % {"file": self.name or os.path.basename(self.path), "code": _exit_code(pid)}
                    )
                if item == _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                self.position, records = item
                yield from records
        finally:
            stop.set()
            receiving.close()  # a reader still parsing gets a broken pipe and ends
            _end(pid)
            thread.join()


def _exit_code(pid):
    """The reading process's exit code (negative: the signal that killed it), once it ended."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status)


def _end(pid):
    """Stop the reading process if it still runs, and collect it."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _parse(sending, path, name, chunk, language, packed=None):
    """The reading process: parse, hand over chunks, then the end or the error."""
    # The importer's signal handlers (Celery's warm shutdown) are not this process's.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if language:
        translation.activate(language)
    try:
        with open(path, "rb") as raw:
            stream = PackedReader(raw, packed) if packed is not None else raw
            batch = []
            for record in reader.iter_records(stream, name=name):
                batch.append(record)
                if len(batch) >= chunk:
                    sending.send((stream.tell(), batch))
                    batch = []
            sending.send((stream.tell(), batch))
        sending.send(_END)
    except (BrokenPipeError, ConnectionResetError):
        raise  # the importer stopped reading
    except BaseException as exc:  # handed to the importer, raised there
        sending.send(_picklable(exc))


def _picklable(exc):
    """The reader's own errors travel as they are; anything else as its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
