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

* :func:`start_reading_ahead` and :class:`read_spooled` — the next file of an exchange,
  read before its turn. 1C sends ``import.xml`` and ``offers.xml`` in one archive, and
  the worker imports them one after the other; while the catalogue file is imported,
  a process of its own (at a lower priority: it takes what the import leaves idle)
  parses the offers file into a spool on disk, the same pickled chunks as through the
  pipe. When the offers file's turn comes, its import reads the spool instead of
  parsing: measured in-process on a repeated 10,000-product exchange, the offers file
  took 0.85 s with its records ready against 1.3 s parsed in its turn, the parse being
  the longest of reader, importer and database on a repeat. The spool, not memory,
  holds what is read ahead, so the worker's memory does not grow with the file.
"""

import hashlib
import logging
import os
import pickle
import queue
import signal
import struct
import tempfile
import threading
import time
from multiprocessing.connection import Pipe
from pathlib import Path

from django.utils import translation
from django.utils.translation import gettext as _

try:
    import fcntl
except ImportError:  # no flock (Windows): nothing is read ahead of its turn
    fcntl = None

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
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, min(limit, size))
    except (AttributeError, OSError, ValueError):  # no fcntl (None), or no F_SETPIPE_SZ
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


def _hand_over(ready, item, stop):
    """Put ``item`` into the queue ``ready`` once it has room; False if ``stop`` was set meanwhile."""
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _chunk(item):
    """A chunk handed over: ``(position, records)``; None at the end; the reader's error raised."""
    if item == _END:
        return None
    if isinstance(item, BaseException):
        raise item
    return item


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
        return _hand_over(ready, item, stop)

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
                _parse(sending.send, self.path, self.name, self.chunk, language, self.packed)
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
                    _hand_over(ready, item, stop)
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
                chunk = _chunk(item)
                if chunk is None:
                    return
                self.position, records = chunk
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


def _parse(send, path, name, chunk, language, packed=None):
    """
    The reading process: parse, hand over chunks with ``send`` (the pipe's, or a
    spool's), then the end or the error.
    """
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
                    send((stream.tell(), batch))
                    batch = []
            send((stream.tell(), batch))
        send(_END)
    except (BrokenPipeError, ConnectionResetError, SpoolFailed):
        raise  # the importer stopped reading, or the spool cannot be written
    except BaseException as exc:  # handed to the importer, raised there
        send(_picklable(exc))


def _picklable(exc):
    """The reader's own errors travel as they are; anything else as its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


# -- the next file, read before its turn ---------------------------------------------------------

#: Spools are named so in the system's temporary folder (``TMPDIR``).
SPOOL_PREFIX = "onec-read-ahead-"
#: A spool nobody took (its file was dropped, or 1C stopped after the catalogue file) is
#: removed this long after it was written, when the next one starts.
SPOOL_STALE_SECONDS = 3600
#: How long a consumer that caught up with the spool's writer waits before it looks again.
SPOOL_POLL_SECONDS = 0.005
#: A writer that gave nothing for this long while its consumer waited is starved (it
#: runs only on idle CPU, and the machine has none): the consumer parses the rest itself.
SPOOL_STARVED_SECONDS = 2.0
#: What the spool gives when its writer ended without finishing, or starved.
_GAVE_UP = "writer-gave-up"
_FRAME = struct.Struct("<I")
#: Spool -> pid of its writer, for the writers this process forked (collected later).
_writers = {}


class SpoolFailed(Exception):
    """The spool could not be written (a full disk): its reader parses the file itself."""


def spool_path(path, packed=None):
    """
    Where the records of the file at ``path`` (the archive's member ``packed``) are
    spooled: named after the file's real path, size and modification time, so a file
    sent again (other bytes) never meets the records of the one before. None when the
    file is not there.
    """
    try:
        stat = os.stat(path)
    except OSError:
        return None
    identity = "\0".join(
        [os.path.realpath(path), str(stat.st_size), str(stat.st_mtime_ns), packed.as_json_text() if packed else ""]
    )
    digest = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()[:40]
    return Path(tempfile.gettempdir()) / f"{SPOOL_PREFIX}{digest}.pickles"


def start_reading_ahead(path, *, name="", packed=None, chunk=READ_AHEAD_CHUNK):
    """
    Fork a process that parses the file at ``path`` (the archive's member ``packed``)
    into its spool (:func:`spool_path`), for an import that comes later and finds it
    (:func:`spooled`). Only for what :func:`read_in_process` would read, once per file,
    and one at a time per process. Returns the spool, or None when nothing was started.

    The writer holds an exclusive ``flock`` on the spool while it writes (taken before
    the fork, so there is no moment a reader could find it unlocked and unfinished);
    a reader knows by that lock whether more may come.
    """
    _collect_writers()
    if fcntl is None or _writers or not can_fork(path, size=packed.size if packed is not None else None):
        return None
    spool = spool_path(path, packed)
    if spool is None:
        return None
    _remove_stale_spools(spool.parent)
    try:
        descriptor = os.open(spool, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None  # another process reads it ahead, or read it already
    except OSError as exc:
        logger.info("1C import: %s not read ahead, its spool cannot be made: %s", name or path, exc)
        return None
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    language = translation.get_language()
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(descriptor)
        spool.unlink(missing_ok=True)
        logger.info("1C import: %s not read ahead, no process could be started: %s", name or path, exc)
        return None
    if pid == 0:  # the writer
        code = 0
        try:
            _idle_priority()
            with open(descriptor, "wb", buffering=0) as out:
                _parse(_spool_sender(out), path, name, chunk, language, packed)
        except BaseException:  # a full disk: the consumer finds no end and parses the file itself
            code = 1
        finally:
            os._exit(code)
    os.close(descriptor)
    _writers[spool] = pid
    return spool


def _idle_priority():
    """
    Run this process only on CPU nothing else wants (Linux's ``SCHED_IDLE``; elsewhere
    the lowest niceness): it parses with what the import before it leaves idle.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)


def _spool_sender(out):
    """``send`` for :func:`_parse`: each item a frame (its length, then its pickle), written through."""

    def send(item):
        data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            for part in (_FRAME.pack(len(data)), data):
                view = memoryview(part)
                while view:
                    view = view[out.write(view) :]
        except OSError as exc:
            raise SpoolFailed(str(exc)) from exc

    return send


def spooled(path, packed=None):
    """The spool of the file at ``path`` read ahead by :func:`start_reading_ahead`, or None."""
    spool = spool_path(path, packed)
    return spool if spool is not None and spool.exists() else None


class read_spooled:
    """
    Iterate over the records spooled for the file at ``path`` (:func:`spooled`), as
    :class:`read_in_process` would give them, waiting for the writer where the import
    caught up with it; :meth:`tell` is how far into the file the writer had read.

    A thread unpickles the chunks into a queue of ``depth``, as the pipe's does. The
    spool is removed when the records are read or the consumer stops; a writer still
    running then is stopped (when this process forked it). If the writer ended without
    finishing (killed, a full disk), or gave nothing for :data:`SPOOL_STARVED_SECONDS`
    while the import waited (it runs on idle CPU only, and a machine busy with shoppers
    has none), the rest of the file is parsed here after all (:class:`read_in_process`,
    skipping the records already given): the import never fails, nor waits for long,
    for having been read ahead.
    """

    def __init__(self, spool, path, *, name="", depth=READ_AHEAD_CHUNKS, packed=None):
        self.spool = Path(spool)
        self.path = str(path)
        self.name = name
        self.depth = depth
        self.packed = packed
        self.position = 0
        self._rest = None

    def tell(self):
        return self._rest.tell() if self._rest is not None else self.position

    def __iter__(self):
        given = 0
        ready = queue.Queue(maxsize=self.depth)
        stop = threading.Event()
        try:
            source = open(self.spool, "rb")
        except OSError:
            source = None  # taken by another import meanwhile: parse the file here
        if source is not None:
            thread = threading.Thread(target=self._receive, args=(source, ready, stop), name="1c-reader", daemon=True)
            thread.start()
            try:
                while True:
                    item = ready.get()
                    if item == _GAVE_UP:
                        logger.warning(
                            "1C import of %s: the process reading it ahead ended without finishing or"
                            " got no CPU; the rest of the file is parsed now",
                            self.name or self.path,
                        )
                        break
                    chunk = _chunk(item)
                    if chunk is None:
                        return
                    self.position, records = chunk
                    yield from records
                    given += len(records)
            finally:
                stop.set()
                thread.join()
                source.close()
                _discard_spool(self.spool)
        self._rest = read_in_process(self.path, name=self.name, depth=self.depth, packed=self.packed)
        for index, record in enumerate(self._rest):
            if index >= given:
                yield record

    def _receive(self, source, ready, stop):
        """The thread: the spool's items, unpickled, into ``ready``; :data:`_GAVE_UP` when the writer did."""
        while not stop.is_set():
            item = _next_in_spool(source, stop)
            _hand_over(ready, item, stop)
            if item == _GAVE_UP or item == _END or isinstance(item, BaseException):
                return


def _next_in_spool(source, stop):
    """
    The spool's next item, once its writer wrote it whole; :data:`_GAVE_UP` when the
    writer ended before writing it or wrote nothing for :data:`SPOOL_STARVED_SECONDS`
    (or ``stop`` was set while waiting).
    """
    waiting_since = None
    while not stop.is_set():
        # Asked before reading: if the writer was gone then, all it wrote is there to read.
        writing = _is_written(source)
        start = source.tell()
        header = source.read(_FRAME.size)
        if len(header) == _FRAME.size:
            (size,) = _FRAME.unpack(header)
            data = source.read(size)
            if len(data) == size:
                return pickle.loads(data)
        source.seek(start)
        now = time.monotonic()
        waiting_since = waiting_since or now
        if not writing or now - waiting_since > SPOOL_STARVED_SECONDS:
            return _GAVE_UP
        time.sleep(SPOOL_POLL_SECONDS)
    return _GAVE_UP


def _is_written(source):
    """Whether the spool open as ``source`` still has its writer (which holds its lock)."""
    try:
        fcntl.flock(source.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(source.fileno(), fcntl.LOCK_UN)
    return False


def _discard_spool(spool):
    """Remove ``spool``; stop and collect its writer if this process forked it."""
    pid = _writers.pop(spool, None)
    if pid is not None:
        _end(pid)
    spool.unlink(missing_ok=True)


def _collect_writers():
    """Collect the writers this process forked that ended (their spools wait for their imports)."""
    for spool, pid in list(_writers.items()):
        try:
            ended, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            ended = pid  # collected by someone else
        if ended:
            del _writers[spool]


def _remove_stale_spools(folder):
    """Spools older than :data:`SPOOL_STALE_SECONDS` whose writer is gone: nobody came for them."""
    deadline = time.time() - SPOOL_STALE_SECONDS
    for spool in Path(folder).glob(f"{SPOOL_PREFIX}*.pickles"):
        try:
            if spool.stat().st_mtime >= deadline:
                continue
            with open(spool, "rb") as source:
                fcntl.flock(source.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                spool.unlink()
        except (OSError, BlockingIOError):
            continue
