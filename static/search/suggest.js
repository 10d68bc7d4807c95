/*
 * Suggestions as you type under the search box of the header (Oscar's search form:
 * a form whose action is the search page, with its ``q`` input). Asks
 * ``<search page>suggest/?q=…`` (shop.apps.search.views.SuggestView) and lists products
 * with their prices and matching categories; arrows and Enter choose, Escape closes.
 */
(function () {
    "use strict";
    if (window.shopSearchSuggest) {
        return;
    }
    window.shopSearchSuggest = true;

    function init(input) {
        var form = input.form;
        var url = form.getAttribute("action").replace(/\/?$/, "/") + "suggest/";
        var box = document.createElement("div");
        var timer = null;
        var last = "";
        var active = -1;
        box.className = "search-suggest";
        box.id = "search-suggest-" + Math.random().toString(36).slice(2);
        box.setAttribute("role", "listbox");
        box.hidden = true;
        document.body.appendChild(box);
        input.setAttribute("autocomplete", "off");
        input.setAttribute("role", "combobox");
        input.setAttribute("aria-autocomplete", "list");
        input.setAttribute("aria-expanded", "false");
        input.setAttribute("aria-controls", box.id);

        function place() {
            var rect = input.getBoundingClientRect();
            box.style.left = rect.left + window.scrollX + "px";
            box.style.top = rect.bottom + window.scrollY + 2 + "px";
            box.style.width = Math.max(rect.width, 256) + "px";
        }

        function close() {
            box.hidden = true;
            active = -1;
            input.setAttribute("aria-expanded", "false");
        }

        function link(href, className, parts) {
            var a = document.createElement("a");
            a.href = href;
            a.className = className;
            a.setAttribute("role", "option");
            parts.forEach(function (part) {
                var span = document.createElement("span");
                span.className = part[0];
                span.textContent = part[1];
                a.appendChild(span);
            });
            return a;
        }

        function show(data) {
            box.textContent = "";
            data.categories.forEach(function (category) {
                // The parent beside the name: «Футболки» of men and of women are told apart.
                box.appendChild(link(category.url, "suggest-category", [["suggest-title", category.name], ["suggest-context", category.parent || ""]]));
            });
            data.products.forEach(function (product) {
                box.appendChild(link(product.url, "suggest-product", [["suggest-title", product.title], ["suggest-price", product.price]]));
            });
            if (!data.products.length && !data.categories.length) {
                close();
                return;
            }
            box.appendChild(link(data.all_url, "suggest-all", [["suggest-title", data.all_label]]));
            place();
            box.hidden = false;
            active = -1;
            input.setAttribute("aria-expanded", "true");
        }

        function ask() {
            var query = input.value.trim();
            if (query === last) {
                return;
            }
            last = query;
            if (query.length < 2) {
                close();
                return;
            }
            fetch(url + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
                .then(function (response) { return response.ok ? response.json() : null; })
                .then(function (data) {
                    if (data && data.query === input.value.trim()) {
                        show(data);
                    }
                })
                .catch(close);
        }

        function move(step) {
            var links = box.querySelectorAll("a");
            if (box.hidden || !links.length) {
                return;
            }
            if (active >= 0) {
                links[active].classList.remove("is-active");
            }
            active = (active + step + links.length) % links.length;
            links[active].classList.add("is-active");
            links[active].scrollIntoView({ block: "nearest" });
        }

        input.addEventListener("input", function () {
            clearTimeout(timer);
            timer = setTimeout(ask, 150);
        });
        input.addEventListener("keydown", function (event) {
            if (event.key === "ArrowDown") {
                event.preventDefault();
                move(1);
            } else if (event.key === "ArrowUp") {
                event.preventDefault();
                move(-1);
            } else if (event.key === "Escape") {
                close();
            } else if (event.key === "Enter" && active >= 0 && !box.hidden) {
                event.preventDefault();
                window.location.href = box.querySelectorAll("a")[active].href;
            }
        });
        input.addEventListener("blur", function () {
            setTimeout(close, 200);
        });
        window.addEventListener("resize", function () {
            if (!box.hidden) {
                place();
            }
        });
    }

    function start() {
        document.querySelectorAll('form[action] input[name="q"]').forEach(function (input) {
            var action = input.form && input.form.getAttribute("action");
            if (action && /\/search\/?$/.test(action)) {
                init(input);
            }
        });
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
