"""
The only code that writes Oscar rows from 1C records.

* :mod:`.importer` — apply one file (``apply_file`` for the Celery task, ``apply_path``
  for a file on disk), in one transaction, routing records to the writers below;
* :mod:`.catalogue` — groups -> categories, products, hiding (``deactivate_untouched``);
* :mod:`.attributes` — properties, units, characteristics -> product attributes;
* :mod:`.images` — pictures -> ProductImage;
* :mod:`.offers` — price types, warehouses, variants, prices, stock records;
* :mod:`.stock` — the sales stock record and its rule (``recompute_sales_stock``);
* :mod:`.report` — what a file did, for the exchange journal.

Writes are bulk and idempotent by 1C Ид: a batch of records costs a fixed number of
statements, and the same file applied twice gives the same rows.
"""
