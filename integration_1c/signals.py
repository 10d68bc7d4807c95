"""
Signals the 1C exchange sends to the rest of the shop.

``catalogue_changed`` is sent once per catalogue or offers file (and by ``mode=deactivate``), inside the file's
transaction, after everything was written: receivers that keep data derived from the
catalogue (the storefront's listing rows, ``shop.apps.search``) refresh it in the same
transaction, so a shopper never sees a half-applied file, and a file that fails leaves
them as they were. Arguments:

* ``since`` — the moment the file's import started: the products and variants the file
  wrote carry a ``date_updated`` at or after it (the bulk writes stamp every row they
  insert or change), so a receiver finds them with an indexed query;
* ``stock_written`` — the ids of the products (variants as themselves, duplicates
  possible) whose stock records the file wrote, deleted or zeroed. Stock records are
  stamped too, but not indexed by the stamp: an index on it made every stock update
  rewrite all the table's indexes (``shop.apps.partner.models.StockRecord``);
* ``kind`` — the file's kind (``classifier``, ``catalogue``, ``offers``, ``offers_changes``), or
  ``deactivate`` when ``mode=deactivate`` hid what a full package did not list;
* ``full`` — True for a full package (СодержитТолькоИзменения="false");
* ``defer`` — True when another file of the same exchange follows and this one (a
  catalogue file that wrote no stock) leaves the refresh of what it wrote to that file's
  ``catalogue_changed``: a receiver may write down what it owes, in this transaction,
  and do it with the next file's (``shop.apps.search.models.ListingDebt``).

``deferred_work_due`` is sent when a file of an exchange failed and no file of the
exchange is left to import after it, and a while after every file that left work
(``services.importer.DEFERRED_WORK_DUE_SECONDS``): what receivers left to a later file
is due now — with ``left_before`` set, only what was left before that moment (work the
next exchange's catalogue file has just left is its offers file's). ``serialised`` is
a context manager (a transaction no import runs beside) to do it in.

``catalogue_import_started`` is sent once per catalogue or offers file, inside its
transaction, before its records are written, with ``size`` (the file's bytes, None when
unknown) and ``kind``: receivers may start work beside the import that needs none of its
rows (the search indexes' pending lists, ``shop.apps.search.pending``) and finish it in
their ``catalogue_changed``.
"""

from django.dispatch import Signal

catalogue_changed = Signal()
catalogue_import_started = Signal()
deferred_work_due = Signal()
