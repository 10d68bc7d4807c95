"""
File names that 1C sends (``mode=file&filename=…`` and the members of its zip archives).

A name is a relative POSIX path inside the exchange folder: ``import.xml``,
``import_files/5c/<guid>_<guid>.jpg``. Anything that could point elsewhere is refused
rather than "repaired": silently rewriting ``..\\..\\x`` into something else would store
a file under a name the importer will never look for, and hide an attack.
"""

import posixpath
import unicodedata

#: Reserved top-level folder of an exchange folder: chunks of unfinished uploads on
#: storages without local paths (see :class:`integration_1c.protocol.uploads.UploadFolder`).
CHUNKS_DIR = ".upload-chunks"

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


def clean_name(name):
    """
    Return ``name`` as a safe relative path inside the exchange folder, or raise
    :class:`UnsafeName`. The name is returned unchanged: only refusals, no rewriting.
    """
    if name is None or not name.strip():
        raise UnsafeName(name or "", "пустое имя файла")
    if len(name) > MAX_NAME_LENGTH:
        raise UnsafeName(name, f"имя длиннее {MAX_NAME_LENGTH} символов")
    if any(unicodedata.category(char) == "Cc" for char in name):
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
    if segments[0] == CHUNKS_DIR:
        raise UnsafeName(name, f"имя папки «{CHUNKS_DIR}» зарезервировано сайтом")
    # Belt and braces: whatever the rules above missed must still normalise to itself.
    if posixpath.normpath(name) != name or posixpath.isabs(name):
        raise UnsafeName(name, "путь выходит за пределы папки обмена")
    return name
