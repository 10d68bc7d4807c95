"""
CommerceML 2.03–3.1, the XML format of 1C:Enterprise's exchange with a site.

:mod:`.records` holds the plain records, :mod:`.reader` streams them out of a file,
:mod:`.xmlsafe` guards the parser (no DTD, no entities, readable errors).
"""

from .reader import CommerceMLReader, iter_records, read_document
from .xmlsafe import CommerceMLError, UnsafeXMLError

__all__ = ["CommerceMLError", "CommerceMLReader", "UnsafeXMLError", "iter_records", "read_document"]
