"""Small CommerceML files written in the tests (2.08 catalogue and offers)."""

from xml.sax.saxutils import escape

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация ВерсияСхемы="2.08" ДатаФормирования="2026-01-01T10:00:00">'


def catalogue(products, *, catalogue_id="cat-1", changes_only=True, extra=""):
    """``products``: {Ид: Наименование} or {Ид: (Наименование, raw XML inside Товар)}."""
    items = []
    for pid, value in products.items():
        name, inner = value if isinstance(value, tuple) else (value, "")
        items.append(f"<Товар><Ид>{escape(pid)}</Ид><Наименование>{escape(name)}</Наименование>{inner}</Товар>")
    return (
        f"{HEAD}<Классификатор><Ид>cls-1</Ид><Наименование>Классификатор</Наименование></Классификатор>"
        f'<Каталог СодержитТолькоИзменения="{"true" if changes_only else "false"}"><Ид>{catalogue_id}</Ид>'
        f"<ИдКлассификатора>cls-1</ИдКлассификатора><Наименование>Каталог</Наименование>{extra}"
        f"<Товары>{''.join(items)}</Товары></Каталог></КоммерческаяИнформация>"
    ).encode("utf-8")
