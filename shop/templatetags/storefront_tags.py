"""
Template tags of the storefront's frame (header, menu, footer) and of price display.

    {% load storefront_tags %}
    {% shop_contacts as shop %}           name, logo, phone (+ tel: link), address, hours, e-mail
    {% menu_categories as categories %}   the first level of the catalogue, for the menu
    {% site_offers_exist as has_offers %} whether the «Акции» page has anything to show
    {% account_has_notifications as n %}  whether the account's «Уведомления» has anything
    {{ price|discount_percent }}          «−17%» of a price with an old price
    {% breadcrumbs_label %}…{% endbreadcrumbs_label %}  Oscar's breadcrumbs labelled in the page's language
    {% configured_shop_name %}            the name from the settings, for pages without a database
"""

from dataclasses import dataclass

from django import template
from django.conf import settings
from django.utils.html import escape
from django.utils.translation import gettext as _
from oscar.templatetags.currency_filters import currency as format_currency

register = template.Library()


@dataclass(frozen=True)
class ShopContacts:
    """The shop's identity as the header and the footer show it."""

    name: str
    tagline: str = ""
    logo: str = ""
    phone: str = ""
    address: str = ""
    hours: str = ""
    email: str = ""

    @property
    def phone_href(self):
        """``tel:+77272000000`` for a phone written any way («+7 (727) 200-00-00»)."""
        from shop.identity import ShopIdentity

        return ShopIdentity(self.name, "", self.phone, "", "", "").phone_href


def _identity_value(identity, key):
    """A value of the ``shop_identity`` context (an object or a mapping), "" when missing."""
    if identity is None:
        return ""
    if isinstance(identity, dict):
        value = identity.get(key, "")
    else:
        value = getattr(identity, key, "")
    if hasattr(value, "url"):  # an image field
        try:
            value = value.url
        except ValueError:
            value = ""
    return str(value or "").strip()


@register.simple_tag(takes_context=True)
def shop_contacts(context):
    """
    The shop's identity from ``shop_identity`` (the context processor over the settings
    editable in the admin), falling back on Oscar's shop name, so the frame of every page
    (the 404 page included) always has a name to show.
    """
    identity = context.get("shop_identity")
    name = _identity_value(identity, "name") or context.get("shop_name") or settings.OSCAR_SHOP_NAME
    return ShopContacts(
        name=name,
        tagline=_identity_value(identity, "tagline") or context.get("shop_tagline") or "",
        logo=_identity_value(identity, "logo_url"),
        phone=_identity_value(identity, "phone"),
        address=_identity_value(identity, "address"),
        hours=_identity_value(identity, "hours"),
        email=_identity_value(identity, "email"),
    )


@register.simple_tag
def configured_shop_name():
    """
    The shop's name as the settings give it (``SHOP_NAME``), for the 500 page, which must
    draw without the database: the name edited in the admin is stored there, so a shop
    that renamed itself only in the admin shows its first name on that page.
    """
    return getattr(settings, "SHOP_NAME", "")


class BreadcrumbsLabelNode(template.Node):
    """Renders its content with Oscar's English ``aria-label="breadcrumb"`` in the page's language."""

    #: What Oscar's templates write (a dozen of them: basket, login, password reset, offers…).
    OSCAR_LABEL = 'aria-label="breadcrumb"'

    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        label = f'aria-label="{escape(_("Breadcrumbs"))}"'
        return self.nodelist.render(context).replace(self.OSCAR_LABEL, label)


@register.tag
def breadcrumbs_label(parser, token):
    """
    Wraps the frame's ``{% block breadcrumbs %}``, so that every Oscar page a shopper meets
    names its breadcrumbs for a screen reader in Russian («Хлебные крошки»), as the shop's
    own pages do, without copying each of Oscar's templates to change one attribute.
    """
    nodelist = parser.parse(("endbreadcrumbs_label",))
    parser.delete_first_token()
    return BreadcrumbsLabelNode(nodelist)


@register.simple_tag
def menu_categories():
    """The public first-level categories (1C's top groups), in 1C's order: one query."""
    from shop.apps.search import selectors

    return list(selectors.top_categories())


@register.simple_tag
def site_offers_exist():
    """
    Whether Oscar's offers page would list anything: the menu links to it only then,
    never to an empty page.
    """
    from oscar.core.loading import get_model

    ConditionalOffer = get_model("offer", "ConditionalOffer")
    return ConditionalOffer.active.filter(offer_type=ConditionalOffer.SITE).exists()


@register.simple_tag(takes_context=True)
def account_has_notifications(context):
    """
    Whether the account's «Уведомления» would show anything (1C's order status changes
    and back-in-stock alerts leave notifications there): the account's sections link to
    it only then, never to an empty page.
    """
    from oscar.core.loading import get_model

    user = context["request"].user
    if not user.is_authenticated:
        return False
    Notification = get_model("communication", "Notification")
    return Notification.objects.filter(recipient=user).exists()


@register.filter
def charge_or_free(amount, currency):
    """A delivery charge as the shop writes it everywhere: the amount, or «бесплатно» for none."""
    return format_currency(amount, currency) if amount else _("free")


@register.filter
def discount_percent(price):
    """
    The discount of a price with an old (crossed-out) price, in whole per cent, as a
    shop writes it: «−17%». "" when there is no old price or no discount to speak of.
    """
    old = getattr(price, "old_price", None)
    amount = getattr(price, "incl_tax", None)
    if not old or amount is None or old <= amount:
        return ""
    percent = int(round((1 - amount / old) * 100))
    if percent < 1:
        return ""
    return _("−%(percent)d%%") % {"percent": percent}


@register.simple_tag
def related_products(product, limit=8):
    """
    The ids of the products to show under a product: those a manager recommended first,
    then others of the product's own category (1C's group), newest first (drawn by
    :func:`product_cards`).
    """
    from shop.apps.search import selectors

    base = product.parent if product.is_child else product
    chosen = list(
        base.recommended_products.filter(is_public=True, parent__isnull=True).values_list("pk", flat=True)[:limit]
    )
    if len(chosen) < limit:
        category = base.get_categories().order_by("-depth").first()
        if category is not None:
            chosen += selectors.newest_in_category(category, limit - len(chosen), exclude=[base.pk, *chosen])
    return chosen


@register.simple_tag(takes_context=True)
def product_cards(context, products):
    """
    The cards of ``products`` (products or their ids) four a row, from the cards' cache
    (:mod:`shop.apps.search.cards`): a product page's related products cost one cache
    read once drawn anywhere.
    """
    from shop.apps.search import cards

    ids = [getattr(product, "pk", product) for product in products]
    return cards.draw(context["request"], ids, cell=cards.ROW_OF_FOUR)


@register.simple_tag
def in_stock_products(limit=8, exclude=()):
    """
    The ids of products a shopper can buy right now, the best-selling first (drawn by
    :func:`product_cards`); ``exclude``: products (or ids) already on the page.
    """
    from shop.apps.search import selectors

    return selectors.in_stock_products(limit, exclude=[getattr(p, "pk", p) for p in exclude])
