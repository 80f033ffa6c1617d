// Text the console's scripts write after the page loaded (the «۰ از ۳ انتخاب شده‌اند» counter,
// filter boxes' counts) gets Persian digits by the page's own rule (models/persian_digits.py): a
// word without Latin letters has its digits in Persian; code, typed text and form values are left.
"use strict";
(function () {
    const PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
    const KEPT = "SCRIPT,STYLE,TEXTAREA,PRE,CODE,INPUT,SELECT";
    const LATIN_LETTER = /[A-Za-z]/;

    function shapeWord(word) {
        return LATIN_LETTER.test(word) ? word : word.replace(/[0-9]/g, (digit) => PERSIAN[digit]);
    }

    function shapeText(node) {
        const parent = node.parentElement;
        if (!parent || parent.closest(KEPT) || !/[0-9]/.test(node.data)) {
            return;
        }
        const shaped = node.data.replace(/\S+/g, shapeWord);
        if (shaped !== node.data) {
            node.data = shaped;
        }
    }

    function shapeTree(root) {
        if (root.nodeType === Node.TEXT_NODE) {
            shapeText(root);
            return;
        }
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            shapeText(node);
        }
    }

    new MutationObserver((mutations) => {
        for (const mutation of mutations) {
            if (mutation.type === "characterData") {
                shapeText(mutation.target);
            } else {
                mutation.addedNodes.forEach(shapeTree);
            }
        }
    }).observe(document.body, {childList: true, characterData: true, subtree: true});
    // Whatever scripts wrote before this one ran.
    shapeTree(document.body);
})();
