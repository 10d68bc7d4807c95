"""
A cap on the size of a single text node, applied to the bytes before lxml sees them.

The reader parses with ``huge_tree`` (real catalogues have text nodes of megabytes), so
libxml2 would build a 100 MB ``Описание`` in memory, and the worker would go near a
gigabyte. :class:`TextNodeCap` wraps the raw file and cuts any run of character data
(between two ``<``, or inside one CDATA section) after conf ``ONEC_MAX_TEXT_NODE``
bytes, at a character and entity boundary; the rest of the run up to the next markup is
dropped and reported through ``on_cut(line)``. Markup is never touched, so the file
stays well-formed (a hostile attribute value of megabytes is cut too and then fails
the file as malformed — with bounded memory).

The scan costs a few C-level searches per 64 KB block; only blocks holding a CDATA
section or an overlong run take the slow path.
"""

import re

#: conf ``ONEC_MAX_TEXT_NODE``'s default, for the reader used outside the shop.
DEFAULT_LIMIT = 1024 * 1024
BLOCK = 64 * 1024
CDATA_OPEN = b"<![CDATA["
CDATA_CLOSE = b"]]>"
#: Bytes held back at the end of a block so that a marker split across two reads is seen.
HOLD = len(CDATA_OPEN) - 1


class TextNodeCap:
    """A binary, read-only stream: ``raw`` with every text node cut to ``limit`` bytes."""

    def __init__(self, raw, limit, on_cut=None):
        self.raw = raw
        self.limit = max(int(limit), 16)
        self.on_cut = on_cut
        self._long_gap = re.compile(rb"[^<]{%d}" % (self.limit + 1))
        self._carry = b""
        self._out = b""
        self._eof = False
        self._run = 0  # bytes of character data (and markup) since the last "<"
        self._cdata = False
        self._dropping = False
        self._lines = 1
        self.cuts = 0

    def read(self, size=-1):
        while not self._out and not (self._eof and not self._carry):
            self._fill()
        if size is None or size < 0 or size >= len(self._out):
            data, self._out = self._out, b""
        else:
            data, self._out = self._out[:size], self._out[size:]
        return data

    def _fill(self):
        data = b"" if self._eof else self.raw.read(BLOCK)
        if isinstance(data, str):
            raise TypeError("open CommerceML files in binary mode ('rb')")
        if not data:
            self._eof = True
        buffer = self._carry + data
        if self._eof:
            self._carry = b""
        else:
            split = max(0, len(buffer) - HOLD)
            self._carry, buffer = buffer[split:], buffer[:split]
        out = self._filter(buffer)
        self._lines += out.count(b"\n")
        self._out += out

    def _filter(self, buf):
        out = []
        pos, end = 0, len(buf)
        while pos < end:
            if self._dropping:
                marker = CDATA_CLOSE if self._cdata else b"<"
                found = buf.find(marker, pos)
                if found == -1:
                    return b"".join(out)
                self._dropping = False
                pos = found
                continue
            if self._cdata:
                close = buf.find(CDATA_CLOSE, pos)
                stop = end if close == -1 else close
                if self._run + (stop - pos) > self.limit:
                    out.append(buf[pos : pos + self._keep(buf, pos, stop, entities=False)])
                    self._cut()
                    pos = stop
                    continue
                out.append(buf[pos:stop])
                self._run += stop - pos
                if close == -1:
                    return b"".join(out)
                out.append(CDATA_CLOSE)
                pos, self._cdata, self._run = close + len(CDATA_CLOSE), False, 0
                continue
            cdata = buf.find(CDATA_OPEN, pos)
            stop = end if cdata == -1 else cdata
            pos = self._plain(buf, pos, stop, out)
            if self._dropping:  # cut: the rest of the run goes, up to the next markup
                continue
            if cdata != -1:
                out.append(CDATA_OPEN)
                pos, self._cdata, self._run = cdata + len(CDATA_OPEN), True, 0
        return b"".join(out)

    def _plain(self, buf, pos, stop, out):
        """Markup and text between ``pos`` and ``stop`` (no CDATA); returns where it stopped."""
        first = buf.find(b"<", pos, stop)
        head = (stop if first == -1 else first) - pos
        if self._run + head > self.limit:
            out.append(buf[pos : pos + self._keep(buf, pos, pos + head, entities=True)])
            self._cut()
            return pos + head
        if first == -1:
            out.append(buf[pos:stop])
            self._run += stop - pos
            return stop
        overlong = self._long_gap.search(buf, first, stop) if stop - first > self.limit else None
        if overlong is None:
            out.append(buf[pos:stop])
            self._run = stop - buf.rfind(b"<", first, stop)
            return stop
        gap = buf.rfind(b"<", first, overlong.start())
        # Everything up to the "<" that opens the overlong run, then the run itself, cut.
        out.append(buf[pos:gap])
        self._run = 0
        gap_end = buf.find(b"<", gap + 1, stop)
        gap_end = stop if gap_end == -1 else gap_end
        out.append(buf[gap : gap + self._keep(buf, gap, gap_end, entities=True)])
        self._cut()
        return gap_end

    def _keep(self, buf, start, stop, *, entities):
        """How many bytes of ``buf[start:stop]`` fit the cap, ending on a whole character and entity."""
        keep = max(0, min(stop - start, self.limit - self._run))
        cut = start + keep
        while keep and cut < len(buf) and 0x80 <= buf[cut] <= 0xBF:  # inside a UTF-8 character
            keep, cut = keep - 1, cut - 1
        if entities:
            amp = buf.rfind(b"&", max(start, cut - 12), cut)
            if amp != -1 and buf.find(b";", amp, cut) == -1:
                keep -= cut - amp
        return keep

    def _cut(self):
        self.cuts += 1
        self._dropping = True
        self._run = 0
        if self.on_cut is not None:
            self.on_cut(self._lines)


def text_node_limit():
    """conf ``ONEC_MAX_TEXT_NODE`` (the default outside a configured Django)."""
    try:
        from integration_1c import conf

        return int(conf.get("ONEC_MAX_TEXT_NODE"))
    except Exception:  # the reader is pure: it also runs without the shop's settings
        return DEFAULT_LIMIT


def text_cut_message(label, line, limit=None):
    limit = text_node_limit() if limit is None else limit
    return (
        f"{label}, строка {line}: текст длиннее {limit} байт обрезан до этого размера"
        " (настройка ONEC_MAX_TEXT_NODE)"
    )
