"""
What the 1C exchange keeps in its own tables.

Oscar's own models hold everything a shopper sees, keyed by 1C ids in their ``code``
fields:

* Группа (group)               -> ``catalogue.Category.code``
* Товар / Предложение (offer)  -> ``catalogue.Product.code`` (``product#characteristic``
                                  for a variant, a child product)
* Свойство (property)          -> ``catalogue.ProductAttribute`` (code derived from the Ид)
* Значение справочника         -> ``catalogue.AttributeOption.code``
* Склад (warehouse)            -> ``partner.Partner.code``, stock in ``partner.StockRecord``
* Картинка (image)             -> ``catalogue.ProductImage.code``

Only what Oscar has no place for lives here: the exchange journal, price types and the
prices of every type, customer-group price types, and each order's 1C state.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ExchangeSession(models.Model):
    """
    One exchange of 1C with the site: from ``checkauth`` to ``complete`` (or the last
    call). 1C starts a new checkauth -> init cycle for every file, so a session is keyed
    by the token we hand out in ``checkauth`` and kept across those cycles.
    """

    CATALOG, SALE = "catalog", "sale"
    TYPE_CHOICES = [
        (CATALOG, pgettext_lazy("exchange type", "Catalogue")),
        (SALE, pgettext_lazy("exchange type", "Orders")),
    ]

    OPEN, COMPLETE, FAILED = "open", "complete", "failed"
    STATE_CHOICES = [
        (OPEN, pgettext_lazy("exchange state", "In progress")),
        (COMPLETE, pgettext_lazy("exchange state", "Complete")),
        (FAILED, pgettext_lazy("exchange state", "Failed")),
    ]

    exchange_type = models.CharField(_("Type"), max_length=16, choices=TYPE_CHOICES, db_index=True)
    state = models.CharField(_("State"), max_length=16, choices=STATE_CHOICES, default=OPEN, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("User")
    )
    remote_addr = models.GenericIPAddressField(_("Client address"), null=True, blank=True)
    user_agent = models.CharField(_("Client"), max_length=255, blank=True)
    token = models.CharField(_("Session token"), max_length=64, unique=True)
    schema_version = models.CharField(_("Schema version"), max_length=16, blank=True)
    folder = models.CharField(
        _("Upload folder"), max_length=255, blank=True, help_text=_("Inside the private exchange storage.")
    )
    started_at = models.DateTimeField(_("Started"), default=timezone.now, db_index=True)
    last_seen_at = models.DateTimeField(_("Last call"), default=timezone.now)
    finished_at = models.DateTimeField(_("Finished"), null=True, blank=True)
    messages = models.JSONField(_("Messages"), default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("Exchange session")
        verbose_name_plural = _("Exchange journal")
        permissions = [("exchange_1c", _("Can exchange data with 1C"))]

    def __str__(self):
        # Local time (TIME_ZONE), as every date the admin shows.
        return f"{self.get_exchange_type_display()} {timezone.localtime(self.started_at):%d.%m.%Y %H:%M}"


class ExchangeFile(models.Model):
    """A file 1C uploaded in a session, and what applying it did."""

    UPLOADING, QUEUED, RUNNING, DONE, FAILED = "uploading", "queued", "running", "done", "failed"
    STATE_CHOICES = [
        (UPLOADING, pgettext_lazy("exchange file state", "Uploading")),
        (QUEUED, pgettext_lazy("exchange file state", "Queued")),
        (RUNNING, pgettext_lazy("exchange file state", "Importing")),
        (DONE, pgettext_lazy("exchange file state", "Done")),
        (FAILED, pgettext_lazy("exchange file state", "Failed")),
    ]

    #: Indexed together with the name (Meta.indexes), which serves the session's files too.
    session = models.ForeignKey(ExchangeSession, on_delete=models.CASCADE, related_name="files", db_index=False)
    name = models.CharField(_("File name"), max_length=255)
    size = models.BigIntegerField(_("Size, bytes"), default=0)
    chunks = models.PositiveIntegerField(_("Chunks"), default=0)
    kind = models.CharField(
        _("Kind"), max_length=32, blank=True, help_text=_("Detected from the content: catalogue, offers, …")
    )
    state = models.CharField(_("State"), max_length=16, choices=STATE_CHOICES, default=UPLOADING, db_index=True)
    task_id = models.CharField(max_length=64, blank=True)
    #: The worker holding the file renews this while it imports; a RUNNING file whose
    #: lease lapsed has lost its worker (killed, out of memory, host gone).
    lease_until = models.DateTimeField(_("Worker lease until"), null=True, blank=True)
    #: Which delivery of the import task holds the lease (a redelivery is another attempt).
    attempt = models.PositiveIntegerField(_("Import attempts"), default=0)
    #: Каталог/Ид (ИдКаталога of an offers package), read when the import starts: a newer
    #: exchange of the same catalogue makes an older, still pending import stale.
    catalogue_code = models.CharField(_("1C catalogue id"), max_length=255, blank=True, db_index=True)
    processed = models.PositiveIntegerField(_("Records processed"), default=0)
    created = models.PositiveIntegerField(_("Created"), default=0)
    updated = models.PositiveIntegerField(_("Updated"), default=0)
    hidden = models.PositiveIntegerField(_("Hidden"), default=0)
    skipped = models.PositiveIntegerField(_("Skipped"), default=0)
    warnings = models.JSONField(_("Warnings"), default=list, blank=True)
    #: Ids of the products a full package hid because it did not list them (at most
    #: ``report.MAX_HIDDEN_IDS``); products hidden by 1C's deletion mark are found by
    #: the import's time window (see ``selectors.file_products``).
    hidden_products = models.JSONField(_("Hidden products"), default=list, blank=True)
    error = models.TextField(_("Error"), blank=True)
    #: A picture left in its archive (``protocol.archives.Packed.as_json``): where its
    #: bytes are, and their size and CRC-32. Empty for a file on disk.
    packed = models.JSONField(_("Place in the archive"), null=True, blank=True)
    #: Of an archive: the pictures it left packed, listed in its index
    #: (``protocol.packed_index``) instead of a row each.
    packed_members = models.PositiveIntegerField(_("Pictures left in the archive"), default=0)
    uploaded_at = models.DateTimeField(_("Uploaded"), default=timezone.now)
    started_at = models.DateTimeField(_("Import started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("Import finished"), null=True, blank=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        #: Files are found by name within their session: an archive's members when they
        #: are registered (on a storage without local files all 118,000 pictures of a
        #: 100k archive; on a local disk those it leaves packed are in its own index,
        #: ``protocol.packed_index``), and a batch's pictures when they are read. The
        #: session alone has no index of its own: with statistics that lag behind the
        #: rows an archive just added, PostgreSQL chose it and read every member of the
        #: session for each batch. Every ``mode=import`` call looks for the session's
        #: archives, and the journal lists the files it imported: a second index holds
        #: the session's files that are not attachments (``pipeline.ATTACHMENT``: the
        #: pictures and other files the XML refers to), a handful, so that neither reads
        #: past the 118,000 members of a 100,000-product archive — 27 ms of the
        #: database's time for every progress call 1C made while such an archive was
        #: imported.
        indexes = [
            models.Index(fields=["session", "name"], name="onec_file_session_name"),
            models.Index(
                fields=["session", "kind"], name="onec_file_session_imported", condition=~models.Q(kind="attachment")
            ),
        ]
        verbose_name = _("Exchange file")
        verbose_name_plural = _("Exchange files")

    def __str__(self):
        return self.name


class PriceType(models.Model):
    """A 1C price type (ТипЦены): retail, wholesale, old price… stored by its 1C Ид."""

    code = models.CharField(_("1C id"), max_length=64, unique=True)
    name = models.CharField(_("Name"), max_length=255)
    currency = models.CharField(_("Currency"), max_length=12, blank=True)
    date_updated = models.DateTimeField(_("Updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Price type")
        verbose_name_plural = _("Price types")

    def __str__(self):
        return self.name


class ProductPrice(models.Model):
    """
    The price of a product (or variant) in one 1C price type. The selling type is also
    written into the product's stock records, which is what Oscar's strategy reads by
    default; the other types (old price, wholesale) are read from here.

    No database constraints on the product and the type: a first import of a 100,000-
    product catalogue writes 440,000 prices, and PostgreSQL checked both references of
    each at the commit (two of its five million checks of that transaction). Prices are
    written only by the import, for products and types it has just read or written, and
    go with their product or type through Django's cascade (``on_delete``).
    """

    #: Not indexed alone: the unique (product, price type) index starts with the product.
    #: No database constraints (see the class docstring).
    product = models.ForeignKey(
        "catalogue.Product",
        on_delete=models.CASCADE,
        related_name="onec_prices",
        verbose_name=_("Product"),
        db_index=False,
        db_constraint=False,
    )
    price_type = models.ForeignKey(
        PriceType,
        on_delete=models.CASCADE,
        related_name="prices",
        verbose_name=_("Price type"),
        db_constraint=False,
    )
    price = models.DecimalField(_("Price"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("Currency"), max_length=12, blank=True)
    date_updated = models.DateTimeField(_("Updated"), auto_now=True)

    class Meta:
        verbose_name = _("Product price")
        verbose_name_plural = _("Product prices")
        constraints = [
            models.UniqueConstraint(fields=["product", "price_type"], name="onec_price_product_type_unique")
        ]

    def __str__(self):
        return f"{self.product_id} {self.price_type_id}: {self.price}"


class CustomerGroupPriceType(models.Model):
    """Customers in ``group`` see and pay ``price_type`` (e.g. wholesale buyers)."""

    group = models.OneToOneField(
        "auth.Group", on_delete=models.CASCADE, related_name="onec_price_type", verbose_name=_("Customer group")
    )
    price_type = models.ForeignKey(
        PriceType, on_delete=models.CASCADE, related_name="customer_groups", verbose_name=_("Price type")
    )
    priority = models.IntegerField(
        _("Priority"), default=0, help_text=_("When a customer is in several groups, the highest priority wins.")
    )

    class Meta:
        ordering = ["-priority"]
        verbose_name = _("Customer group price type")
        verbose_name_plural = _("Customer group price types")

    def __str__(self):
        return f"{self.group} → {self.price_type}"


class OrderExchange(models.Model):
    """
    An order's 1C state.

    ``version`` grows with every change on the site that 1C should hear about;
    ``acknowledged_version`` is the version 1C confirmed with ``mode=success``. An order
    is due for export while ``acknowledged_version < version``. Which orders a ``query``
    answered is recorded in :class:`OrderExportItem`, so ``success`` acknowledges exactly
    those, at exactly the versions that were sent.
    """

    order = models.OneToOneField("order.Order", on_delete=models.CASCADE, related_name="onec")
    version = models.PositiveIntegerField(_("Version on the site"), default=1)
    acknowledged_version = models.PositiveIntegerField(_("Version acknowledged by 1C"), default=0)
    first_sent_at = models.DateTimeField(_("First sent to 1C"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("Last sent to 1C"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("Acknowledged by 1C"), null=True, blank=True, db_index=True)
    onec_number = models.CharField(_("1C number"), max_length=64, blank=True, db_index=True)
    onec_date = models.DateTimeField(_("1C date"), null=True, blank=True)
    posted = models.BooleanField(_("Posted in 1C"), default=False)
    deletion_mark = models.BooleanField(_("Marked for deletion in 1C"), default=False)
    cancelled = models.BooleanField(_("Cancelled in 1C"), default=False)
    paid_at = models.DateTimeField(_("Paid (1C)"), null=True, blank=True)
    payment_number = models.CharField(_("Payment number (1C)"), max_length=64, blank=True)
    shipped_at = models.DateTimeField(_("Shipped (1C)"), null=True, blank=True)
    shipment_number = models.CharField(_("Shipment number (1C)"), max_length=64, blank=True)
    tracking_number = models.CharField(_("Tracking number"), max_length=128, blank=True)
    onec_status = models.CharField(_("1C status"), max_length=64, blank=True)
    last_change_from_1c_at = models.DateTimeField(_("Last change from 1C"), null=True, blank=True)
    last_document_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("Order 1C state")
        verbose_name_plural = _("Orders' 1C state")

    def __str__(self):
        return f"1C: {self.order}"

    @property
    def is_due(self):
        return self.acknowledged_version < self.version


class OrderExportItem(models.Model):
    """One order, at one version, in the answer to one ``type=sale&mode=query``."""

    session = models.ForeignKey(
        ExchangeSession, on_delete=models.CASCADE, related_name="exported_orders", verbose_name=_("Exchange session")
    )
    order = models.ForeignKey(
        "order.Order", on_delete=models.CASCADE, related_name="onec_exports", verbose_name=_("Order")
    )
    version = models.PositiveIntegerField(_("Version"))
    sent_at = models.DateTimeField(_("Sent"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("Acknowledged by 1C"), null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("Order sent to 1C")
        verbose_name_plural = _("Orders sent to 1C")


class CategoryExchange(models.Model):
    """
    A 1C group's (Группа) exchange state. Oscar's ``Category`` has no modification
    date, yet ``mode=deactivate`` (3.x) must hide the groups an exchange did not list
    since a moment: the catalogue import stamps ``touched_at`` on every group it reads.
    """

    category = models.OneToOneField(
        "catalogue.Category", on_delete=models.CASCADE, primary_key=True, related_name="onec"
    )
    touched_at = models.DateTimeField(_("Last listed by 1C"), db_index=True)
    #: Классификатор/Ид the group came from ("" before catalogues were told apart):
    #: a full package hides only groups of its own classifier.
    classifier = models.CharField(_("1C classifier"), max_length=128, blank=True, db_index=True)

    class Meta:
        verbose_name = _("Category 1C state")
        verbose_name_plural = _("Categories' 1C state")

    def __str__(self):
        return f"1C: {self.category_id}"


class Unit(models.Model):
    """
    A 1C unit of measure (ЕдиницаИзмерения). Schema 3.1 products name their unit only
    by reference (``<БазоваяЕдиница>2009</БазоваяЕдиница>``), often from a classifier
    sent in another file, so units are kept to show "шт" rather than "2009".
    """

    code = models.CharField(_("1C id or code"), max_length=64, unique=True)
    name = models.CharField(_("Short name"), max_length=64, blank=True)
    full_name = models.CharField(_("Full name"), max_length=255, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("Unit")
        verbose_name_plural = _("Units")

    def __str__(self):
        return self.name or self.full_name or self.code


class Catalogue(models.Model):
    """
    A 1C catalogue (Каталог) feeding the shop. One shop may be fed by several exchange
    nodes or organisations, each with its own Каталог/Ид: a full package hides, zeroes
    and ``mode=deactivate`` hides only within its own catalogue, as 1C-Bitrix does per
    catalogue. ``code`` is the Ид ("" for files that name no catalogue).
    """

    code = models.CharField(_("1C id"), max_length=128, unique=True, blank=True)
    name = models.CharField(_("Name"), max_length=255, blank=True)
    classifier_code = models.CharField(_("Classifier 1C id"), max_length=128, blank=True)
    #: When the last full catalogue package (СодержитТолькоИзменения="false") of this
    #: catalogue started: ``mode=deactivate`` hides only in catalogues a full package
    #: of the run imported.
    full_import_started_at = models.DateTimeField(_("Last full import started"), null=True, blank=True)
    date_updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("1C catalogue")
        verbose_name_plural = _("1C catalogues")

    def __str__(self):
        return self.name or self.code or "—"


class ProductExchange(models.Model):
    """
    A 1C product's exchange state, kept beside Oscar's Product (not in a forked
    catalogue app): the catalogue it came from, and when an exchange last wrote it —
    its Товар, or an offer, price or stock of it or of its variants (``mode=deactivate``
    never hides what the run touched).

    ``touched_at`` is not indexed: every file of an exchange stamps every product it
    writes, and with the stamp in an index each stamp rewrote the row's entries in every
    index of the table; only the end of a full package and ``mode=deactivate`` ask which
    products were not stamped, once each, by reading the catalogue's rows.
    """

    product = models.OneToOneField(
        "catalogue.Product",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="onec",
        db_constraint=False,  # written by the import only, for products it has just written
    )
    catalogue = models.CharField(_("1C catalogue"), max_length=128, blank=True, db_index=True)
    touched_at = models.DateTimeField(_("Last written by 1C"))
    #: What the product's Товар was (with what the shop resolved it to) when its
    #: categories, attribute values and pictures were last made to match it; empty when
    #: they must be looked at again (``services.digests``).
    digest = models.CharField(_("Digest of the last Товар written"), max_length=32, blank=True, default="")
    #: When they were; a product saved since then (the dashboard) is looked at again.
    written_at = models.DateTimeField(_("Товар last written"), null=True, blank=True)

    class Meta:
        verbose_name = _("Product 1C state")
        verbose_name_plural = _("Products' 1C state")

    def __str__(self):
        return f"1C: {self.product_id}"


class SettingChange(models.Model):
    """
    One change of a setting the owner edits in the admin (django-constance): which, from
    what to what, by whom and when. Written for every save, wherever it came from (the
    admin page, a shell, a test): see ``integration_1c.admin.settings``.
    """

    key = models.CharField(_("Setting"), max_length=255, db_index=True)
    old_value = models.TextField(_("Old value"), blank=True)
    new_value = models.TextField(_("New value"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("Changed by")
    )
    changed_at = models.DateTimeField(_("Changed at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("Settings change")
        verbose_name_plural = _("Settings change log")

    def __str__(self):
        return f"{self.key} {timezone.localtime(self.changed_at):%d.%m.%Y %H:%M}"


class ImageFingerprint(models.Model):
    """
    The size and CRC-32 of the archive member a 1C picture was last read from. A full
    exchange sends every picture again; when the archive's directory gives the same
    size and CRC-32 for the same product's picture, the importer knows the content
    (and so the image code) without inflating or hashing it. The content hash stays the
    image's identity (``ProductImage.code``); this is only a way to skip recomputing it.

    No database constraint: images are also deleted in bulk (``_raw_delete``) and a row
    left over names an id PostgreSQL never hands out again.
    """

    image = models.OneToOneField(
        "catalogue.ProductImage",
        on_delete=models.CASCADE,
        primary_key=True,
        db_constraint=False,
        related_name="onec_fingerprint",
    )
    size = models.BigIntegerField()
    crc = models.BigIntegerField()

    class Meta:
        verbose_name = _("Picture fingerprint")
        verbose_name_plural = _("Picture fingerprints")
