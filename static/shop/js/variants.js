/*
 * The product page's variant choice: one group of buttons per characteristic (Размер,
 * Цвет…). Choosing a value moves the price, the old price and discount, the availability,
 * the stock per warehouse and the buy button to the chosen variant, without a reload.
 * The variants come embedded in the page (#variant_data, built by
 * shop.apps.partner.display.variant_data); the form posts the variant as child_id.
 *
 * A value no variant in stock has is disabled (server-side too); a value that is in stock
 * only with other values of the other characteristics is drawn struck through, and
 * choosing it switches the others to the closest combination that can be bought.
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

    function matchesOthers(variant, chosen, skip) {
        return axes.every(function (code) {
            return code === skip || chosen[code] === null || variant.values[code] === chosen[code];
        });
    }

    function find(chosen) {
        return data.variants.filter(function (variant) {
            return axes.every(function (code) { return variant.values[code] === chosen[code]; });
        })[0] || null;
    }

    function closestBuyable(chosen, code) {
        var best = null;
        var bestScore = -1;
        data.variants.forEach(function (variant) {
            if (!variant.can_buy || variant.values[code] !== chosen[code]) {
                return;
            }
            var score = axes.filter(function (other) { return variant.values[other] === chosen[other]; }).length;
            if (score > bestScore) {
                best = variant;
                bestScore = score;
            }
        });
        return best;
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
        axes.forEach(function (code) {
            radios(code).forEach(function (input) {
                var inStock = data.variants.some(function (candidate) {
                    return candidate.can_buy && candidate.values[code] === input.value && matchesOthers(candidate, chosen, code);
                });
                input.parentNode.classList.toggle("is-unavailable", !inStock);
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
        var code = input.name.slice("axis_".length);
        var chosen = selection();
        var variant = find(chosen);
        if (!variant || !variant.can_buy) {
            var closest = closestBuyable(chosen, code);
            if (closest) {
                axes.forEach(function (other) {
                    radios(other).forEach(function (radio) {
                        radio.checked = radio.value === closest.values[other];
                    });
                });
                variant = closest;
            }
        }
        render(variant);
    });

    render(find(selection()));
}());
