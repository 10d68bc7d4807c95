/*
 * The product page's variant choice: one group of buttons per characteristic (Размер,
 * Цвет…). Choosing a value moves the price, the old price and discount, the availability,
 * the stock per warehouse and the buy button to the chosen variant, without a reload.
 * The variants come embedded in the page (#variant_data, built by
 * shop.apps.partner.display.variant_data); the form posts the variant as child_id.
 *
 * The selectors narrow from the top down (shop.apps.partner.display.buyable_values, which
 * draws the page as it opens): the first characteristic offers every value some variant
 * in stock has, so it can always be changed; each following one offers only the values
 * in stock with the choice above it, the others are disabled. When a new choice above
 * leaves a value below out of stock, that value moves to the first one in stock and the
 * page says so next to the selectors; nothing else is ever changed for the shopper.
 */
(function () {
    "use strict";

    var dataElement = document.getElementById("variant_data");
    var form = document.getElementById("add_to_basket_form");
    if (!dataElement || !form) {
        return;
    }
    var data = JSON.parse(dataElement.textContent);
    var textsElement = document.getElementById("variant_texts");
    var texts = textsElement ? JSON.parse(textsElement.textContent) : {};
    var axes = data.axes.map(function (axis) { return axis.code; });
    var page = form.closest(".product_main") || document;

    function radios(code) {
        return Array.prototype.filter.call(form.querySelectorAll("input[type=radio]"), function (input) {
            return input.name === "axis_" + code;
        });
    }

    function selection() {
        var chosen = {};
        axes.forEach(function (code) {
            var checked = radios(code).filter(function (input) { return input.checked; })[0];
            chosen[code] = checked ? checked.value : null;
        });
        return chosen;
    }

    function find(chosen) {
        return data.variants.filter(function (variant) {
            return axes.every(function (code) { return variant.values[code] === chosen[code]; });
        })[0] || null;
    }

    /* The values of axes[index] in stock together with the chosen values above it. */
    function buyableValues(index, chosen) {
        var above = axes.slice(0, index);
        var code = axes[index];
        var values = {};
        data.variants.forEach(function (variant) {
            var matches = above.every(function (other) {
                return chosen[other] === null || variant.values[other] === chosen[other];
            });
            if (variant.can_buy && matches) {
                values[variant.values[code]] = true;
            }
        });
        return values;
    }

    function choose(code, value) {
        radios(code).forEach(function (radio) {
            radio.checked = radio.value === value;
        });
    }

    /*
     * After a change on axes[index], move every value below it that is out of stock with
     * the choice above to the first value in stock; returns [wanted, chosen] combinations
     * when something moved, else null.
     */
    function keepBuyable(index) {
        var chosen = selection();
        var wanted = axes.map(function (code) { return chosen[code]; });
        var moved = false;
        for (var below = index + 1; below < axes.length; below += 1) {
            var code = axes[below];
            var buyable = buyableValues(below, chosen);
            if (chosen[code] === null || buyable[chosen[code]]) {
                continue;
            }
            var first = radios(code).filter(function (radio) { return buyable[radio.value]; })[0];
            if (first) {
                choose(code, first.value);
                chosen[code] = first.value;
                moved = true;
            }
        }
        if (!moved) {
            return null;
        }
        return [wanted, axes.map(function (code) { return chosen[code]; })];
    }

    function showNotice(change) {
        var notice = form.querySelector('[data-variant="notice"]');
        if (!notice) {
            return;
        }
        if (!change) {
            notice.textContent = "";
            notice.hidden = true;
            return;
        }
        notice.textContent = (texts.moved || "")
            .replace("{wanted}", change[0].filter(Boolean).join(", "))
            .replace("{chosen}", change[1].filter(Boolean).join(", "));
        notice.hidden = false;
    }

    function setText(role, text) {
        var element = page.querySelector('[data-variant="' + role + '"]');
        if (!element) {
            return null;
        }
        if (element.querySelector(".availability-text")) {
            element.querySelector(".availability-text").textContent = text;
        } else {
            element.textContent = text;
        }
        element.hidden = !text;
        return element;
    }

    function drawAmount(item, row) {
        if (!item) {
            return;
        }
        item.className = row.quantity > 0 ? "in-stock" : "out-of-stock";
        item.querySelector(".warehouse-amount").textContent = row.text;
    }

    function drawPickup(variant) {
        // The pickup points stay (address, hours); their figures and the courier's follow the variant.
        var box = page.querySelector('[data-variant="pickup"]');
        (variant.pickup || []).forEach(function (row) {
            drawAmount(box.querySelector('[data-point="' + row.point + '"]'), row);
        });
        if (variant.courier) {
            drawAmount(box.querySelector("[data-courier]"), variant.courier);
        }
    }

    function drawWarehouses(warehouses) {
        var box = page.querySelector('[data-variant="warehouses"]');
        if (!box) {
            return;
        }
        var list = box.querySelector("ul");
        list.innerHTML = "";
        warehouses.forEach(function (warehouse) {
            var item = document.createElement("li");
            item.className = warehouse.quantity > 0 ? "in-stock" : "out-of-stock";
            var name = document.createElement("span");
            name.className = "warehouse-name";
            name.textContent = warehouse.name;
            var amount = document.createElement("span");
            amount.className = "warehouse-amount";
            amount.textContent = warehouse.text;
            item.appendChild(name);
            item.appendChild(document.createTextNode(" "));
            item.appendChild(amount);
            list.appendChild(item);
        });
        box.hidden = warehouses.length === 0;
    }

    function render(variant) {
        var chosen = selection();
        axes.forEach(function (code, index) {
            var buyable = buyableValues(index, chosen);
            radios(code).forEach(function (input) {
                var unavailable = !buyable[input.value];
                // The chosen value stays enabled even when nothing can be bought (a sold-out
                // product): the shopper sees what is shown.
                input.disabled = unavailable && !input.checked;
                input.parentNode.classList.toggle("is-unavailable", unavailable);
            });
            var fieldset = form.querySelector('[data-axis="' + code + '"] [data-axis-chosen]');
            if (fieldset) {
                fieldset.textContent = chosen[code] || "";
            }
        });

        var buy = form.querySelector('[data-variant="buy"]');
        var quantity = form.querySelector("#id_quantity");
        var childId = form.querySelector("#id_child_id");
        var offer = document.getElementById("variant_offer");
        var availability;
        if (variant) {
            setText("price", variant.price);
            setText("old-price", variant.old_price);
            setText("discount", variant.discount);
            availability = setText("availability", variant.availability);
            availability.className = "availability " + variant.availability_code;
            availability.hidden = false;
            if (page.querySelector('[data-variant="pickup"]')) {
                drawPickup(variant);
            } else {
                drawWarehouses(variant.warehouses);
            }
            childId.value = variant.id;
            buy.disabled = !variant.can_buy;
            if (variant.can_buy) {
                quantity.max = variant.num_available;
                if (parseInt(quantity.value, 10) > variant.num_available) {
                    quantity.value = variant.num_available;
                }
            }
            if (offer) {
                offer.setAttribute("data-availability", variant.availability_code);
            }
        } else {
            availability = setText("availability", texts.unavailable || "");
            availability.className = "availability outofstock";
            availability.hidden = false;
            setText("old-price", "");
            setText("discount", "");
            drawWarehouses([]);
            childId.value = "";
            buy.disabled = true;
            if (offer) {
                offer.setAttribute("data-availability", "outofstock");
            }
        }
    }

    form.addEventListener("change", function (event) {
        var input = event.target;
        if (input.type !== "radio" || input.name.indexOf("axis_") !== 0) {
            return;
        }
        var change = keepBuyable(axes.indexOf(input.name.slice("axis_".length)));
        showNotice(change);
        render(find(selection()));
    });

    render(find(selection()));
}());
