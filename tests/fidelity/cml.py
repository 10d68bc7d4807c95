"""
CommerceML written for the fidelity tests: the shapes real 1C configurations send
(УТ 10.x characteristics as Товар items, several catalogues, Bitrix service
properties), in schema 2.0x and 3.1, with and without a namespace.
"""

NAMESPACES = {
    "2.03": None,
    "2.08": "urn:1C.ru:commerceml_2",
    "3.1": "urn:1C.ru:commerceml_3",
}


def document(body, *, version="2.08"):
    ns = NAMESPACES.get(version, "urn:1C.ru:commerceml_2")
    xmlns = f' xmlns="{ns}"' if ns else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<КоммерческаяИнформация{xmlns} ВерсияСхемы="{version}" ДатаФормирования="2026-12-01T10:00:00">'
        f"{body}</КоммерческаяИнформация>"
    ).encode()


def deleted(version):
    return "<ПометкаУдаления>true</ПометкаУдаления>" if version.startswith("3") else "<Статус>Удален</Статус>"


def classifier(classifier_id="cl", groups=(("g1", "Одежда"),), properties=""):
    group_xml = "".join(f"<Группа><Ид>{gid}</Ид><Наименование>{name}</Наименование></Группа>" for gid, name in groups)
    return (
        f"<Классификатор><Ид>{classifier_id}</Ид><Наименование>Классификатор</Наименование>"
        f"<Группы>{group_xml}</Группы><Свойства>{properties}</Свойства></Классификатор>"
    )


def catalogue(*products, catalogue_id="cat", classifier_id="cl", full=True, groups=(("g1", "Одежда"),), properties=""):
    return classifier(classifier_id, groups, properties) + (
        f'<Каталог СодержитТолькоИзменения="{"false" if full else "true"}"><Ид>{catalogue_id}</Ид>'
        f"<ИдКлассификатора>{classifier_id}</ИдКлассификатора><Наименование>Каталог {catalogue_id}</Наименование>"
        f"<Товары>{''.join(products)}</Товары></Каталог>"
    )


def product(pid, name, *, group="g1", extra=""):
    return (
        f"<Товар><Ид>{pid}</Ид><Наименование>{name}</Наименование>"
        f'<БазоваяЕдиница Код="796" НаименованиеПолное="Штука">шт</БазоваяЕдиница>'
        f"<Группы><Ид>{group}</Ид></Группы>{extra}</Товар>"
    )


def characteristics(*pairs):
    return (
        "<ХарактеристикиТовара>"
        + "".join(
            f"<ХарактеристикаТовара><Наименование>{n}</Наименование><Значение>{v}</Значение></ХарактеристикаТовара>"
            for n, v in pairs
        )
        + "</ХарактеристикиТовара>"
    )


def property_values(*pairs):
    return (
        "<ЗначенияСвойств>"
        + "".join(f"<ЗначенияСвойства><Ид>{i}</Ид><Значение>{v}</Значение></ЗначенияСвойства>" for i, v in pairs)
        + "</ЗначенияСвойств>"
    )


def offers(*items, catalogue_id="cat", classifier_id="cl", full=True, price_type="rt", warehouse="wh"):
    return (
        f'<ПакетПредложений СодержитТолькоИзменения="{"false" if full else "true"}"><Ид>{catalogue_id}#</Ид>'
        f"<Наименование>Пакет предложений</Наименование><ИдКаталога>{catalogue_id}</ИдКаталога>"
        f"<ИдКлассификатора>{classifier_id}</ИдКлассификатора>"
        f"<ТипыЦен><ТипЦены><Ид>{price_type}</Ид><Наименование>Розничная</Наименование><Валюта>KZT</Валюта>"
        f"</ТипЦены></ТипыЦен><Склады><Склад><Ид>{warehouse}</Ид><Наименование>Главный</Наименование></Склад></Склады>"
        f"<Предложения>{''.join(items)}</Предложения></ПакетПредложений>"
    )


def offer(oid, price=None, quantity=None, *, name="", version="2.08", price_type="rt", warehouse="wh", extra=""):
    body = f"<Предложение><Ид>{oid}</Ид><Наименование>{name}</Наименование>{extra}"
    if price is not None:
        body += (
            f"<Цены><Цена><ИдТипаЦены>{price_type}</ИдТипаЦены><ЦенаЗаЕдиницу>{price}</ЦенаЗаЕдиницу>"
            f"<Валюта>KZT</Валюта></Цена></Цены>"
        )
    if quantity is not None:
        if version.startswith("3"):
            body += (
                f"<Количество>{quantity}</Количество><Остатки><Остаток><Склад><Ид>{warehouse}</Ид>"
                f"<Количество>{quantity}</Количество></Склад></Остаток></Остатки>"
            )
        else:
            body += f'<Количество>{quantity}</Количество><Склад ИдСклада="{warehouse}" КоличествоНаСкладе="{quantity}"/>'
    return body + "</Предложение>"


def ut10_catalogue(version="2.08", *, with_product=False, catalogue_id="cat"):
    """УТ 10.x: a Товар per characteristic, Ид "tshirt#red-m", and maybe none for the product."""
    items = []
    if with_product:
        items.append(product("tshirt", "Футболка", extra=property_values(("brand", "Acme"))))
    for cid, colour, size in (("red-m", "Красный", "M"), ("red-l", "Красный", "L"), ("blue-m", "Синий", "M")):
        items.append(
            product(
                f"tshirt#{cid}",
                f"Футболка ({colour}, {size})",
                extra=f"<Артикул>TS-{cid}</Артикул>"
                + property_values(("brand", "Acme"))
                + characteristics(("Цвет", colour), ("Размер", size)),
            )
        )
    items.append(product("cap", "Кепка"))
    brand = "<Свойство><Ид>brand</Ид><Наименование>Бренд</Наименование><ТипЗначений>Строка</ТипЗначений></Свойство>"
    return document(catalogue(*items, catalogue_id=catalogue_id, properties=brand), version=version)


def ut10_offers(version="2.08", *, full=True):
    return document(
        offers(
            offer("tshirt#red-m", 1500, 3, name="Футболка (Красный, M)", version=version),
            offer("tshirt#red-l", 1600, 0, name="Футболка (Красный, L)", version=version),
            offer("tshirt#blue-m", 1500, 7, name="Футболка (Синий, M)", version=version),
            offer("cap", 900, 2, name="Кепка", version=version),
            full=full,
        ),
        version=version,
    )
