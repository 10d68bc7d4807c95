/* Listing pages: a changed filter or sort applies at once (the forms work without this too). */
(function () {
    "use strict";
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
        form.addEventListener("change", function (event) {
            var target = event.target;
            if (target.type === "checkbox" || target.tagName === "SELECT") {
                submit(form);
            }
        });
    });

    function submit(form) {
        // Empty inputs stay out of the URL: the filtered page's address stays short and shareable.
        Array.prototype.forEach.call(form.elements, function (input) {
            if (input.name && input.value === "" && input.type !== "checkbox") {
                input.disabled = true;
            }
        });
        form.submit();
    }

    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
        form.addEventListener("submit", function () {
            Array.prototype.forEach.call(form.elements, function (input) {
                if (input.name && input.value === "" && input.type !== "checkbox") {
                    input.disabled = true;
                }
            });
        });
    });
})();

/* Coming back with the browser's back button: the inputs disabled above work again. */
window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-autosubmit] [disabled]").forEach(function (input) {
        if (!input.closest(".is-empty")) {
            input.disabled = false;
        }
    });
});
