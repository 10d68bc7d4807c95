"""
File names that 1C sends (``mode=file&filename=…`` and the members of its zip archives).

A name is a relative POSIX path inside the exchange folder: ``import.xml``,
``import_files/5c/<guid>_<guid>.jpg``. What 1C itself writes differently is read the
way 1C-Bitrix reads it (:func:`normalise_name`: backslashes of a Windows 1C server, the
folder prefix some servers put in front); anything that could still point elsewhere is
refused rather than "repaired": silently rewriting ``../../x`` into something else
would store a file under a name the importer will never look for, and hide an attack.
"""

import posixpath
import re

#: Reserved top-level folder of an exchange folder: chunks of unfinished uploads on
#: storages without local paths (see :class:`integration_1c.protocol.uploads.UploadFolder`).
CHUNKS_DIR = ".upload-chunks"
#: Reserved top-level folder too: the indexes of the pictures archives left packed
#: (:mod:`integration_1c.protocol.packed_index`).
INDEX_DIR = ".packed-index"
RESERVED_DIRS = (CHUNKS_DIR, INDEX_DIR)

#: Unicode's control characters (category Cc: NUL, line feed, …), which the stability
#: policy fixes at these 65 code points. One search of the name: a look-up of every
#: character's category was most of the time spent on an archive's 118,000 names.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: ``ExchangeFile.name`` holds at most this many characters.
MAX_NAME_LENGTH = 255
#: Longest path segment most file systems accept, in bytes.
MAX_SEGMENT_BYTES = 255


class UnsafeName(ValueError):
    """A name that must not be written; ``reason`` says why, in words for 1C's operator."""

    def __init__(self, name, reason):
        self.name = name
        self.reason = reason
        super().__init__(f"{name!r}: {reason}")


#: Prefixes 1C puts before the name on some servers (a Linux 1C server's temporary
#: folder, the web client's upload folder); 1C-Bitrix removes exactly these.
ONEC_PREFIXES = re.compile(r"^(/tmp/|upload/1c/webdata)")


def normalise_name(name):
    """
    The name as 1C meant it, the way 1C-Bitrix reads it: the prefix a 1C server puts in
    front (:data:`ONEC_PREFIXES`) removed, backslashes (1C on Windows:
    ``import_files\\5c\\x.jpg``) read as folder separators, spaces around it dropped.
    Nothing else is repaired: what still points outside the exchange folder
    (``..``, ``/etc/…``, ``C:…``) is refused by :func:`clean_name`.
    """
    if name is None:
        return name
    cleaned = ONEC_PREFIXES.sub("", name.strip(), count=1).replace("\\", "/")
    if cleaned != name.strip() and cleaned.startswith("/") and not name.strip().startswith("/"):
        cleaned = cleaned.lstrip("/")  # "upload/1c/webdata/import.xml" -> "import.xml"
    return cleaned


#: A name every rule below accepts, told in one match: ASCII letters, digits, ``_`` and
#: ``-`` starting each segment (so no segment is ``.`` or ``..``, nor a reserved folder),
#: dots after; at most :data:`MAX_NAME_LENGTH` characters, so no segment is longer in
#: bytes than :data:`MAX_SEGMENT_BYTES`. What 1C writes (``import_files/5c/<guid>_<guid>.jpg``)
#: matches, and an archive's 118,000 names were checked twice each rule by rule: a third
#: of reading its directory.
PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*")


def clean_name(name):
    """
    Return ``name`` as a safe relative path inside the exchange folder, or raise
    :class:`UnsafeName`. The name is returned unchanged: only refusals, no rewriting.
    """
    if name is not None and len(name) <= MAX_NAME_LENGTH and PLAIN_NAME.fullmatch(name):
        return name
    if name is None or not name.strip():
        raise UnsafeName(name or "", "пустое имя файла")
    if len(name) > MAX_NAME_LENGTH:
        raise UnsafeName(name, f"имя длиннее {MAX_NAME_LENGTH} символов")
    if CONTROL_CHARACTERS.search(name):
        raise UnsafeName(name, "в имени есть управляющие символы (NUL, перевод строки…)")
    if "\\" in name:
        raise UnsafeName(name, "в имени есть обратная косая черта «\\»; ожидается путь через «/»")
    if ":" in name:
        raise UnsafeName(name, "в имени есть двоеточие (буква диска или поток NTFS)")
    if name.startswith("/"):
        raise UnsafeName(name, "абсолютный путь; ожидается путь внутри папки обмена")
    segments = name.split("/")
    for segment in segments:
        if segment == "":
            raise UnsafeName(name, "пустая часть пути («//» или «/» в конце)")
        if segment in (".", ".."):
            raise UnsafeName(name, "путь выходит за пределы папки обмена («.» или «..»)")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise UnsafeName(name, f"часть пути длиннее {MAX_SEGMENT_BYTES} байт")
    if segments[0] in RESERVED_DIRS:
        raise UnsafeName(name, f"имя папки «{segments[0]}» зарезервировано сайтом")
    # Belt and braces: whatever the rules above missed must still normalise to itself.
    if posixpath.normpath(name) != name or posixpath.isabs(name):
        raise UnsafeName(name, "путь выходит за пределы папки обмена")
    return name
