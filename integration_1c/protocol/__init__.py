"""
The HTTP side of 1C's "exchange with site" protocol (see ``/work/shared/PROTOCOL.md``).

Transport only: who may exchange (:mod:`.auth`), which exchange a call belongs to
(:mod:`.sessions`), where uploaded files go (:mod:`.names`, :mod:`.uploads`,
:mod:`.archives`), when a file is unpacked or handed to the importer (:mod:`.pipeline`)
and what 1C reads back (:mod:`.answers`). Parsing CommerceML and writing Oscar rows is
the business of ``integration_1c.commerceml`` and ``integration_1c.services``; this
package calls them lazily, by name.

One view (:func:`.views.exchange`) serves ``/1c/exchange/`` and the Bitrix path
``/bitrix/admin/1c_exchange.php``.
"""
