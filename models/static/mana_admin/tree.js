// The organization tree in the admin console: each unit with units under it has a button that
// closes and opens its branch; two buttons above the list open or close every branch. Rows come in
// tree order with their level (data-level, written by models/admin.py OrganizationAdmin.tree_node),
// so a branch is the rows after a unit that are deeper than it. Only what is shown changes: the tree
// itself is changed through a unit's form, under the tree lock, never from this list.
"use strict";
(function () {
    function rows() {
        return Array.from(document.querySelectorAll("#result_list tbody tr")).filter(
            (row) => row.querySelector(".tree-node")
        );
    }

    function setOpen(toggle, open) {
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        toggle.title = open ? "بستن این شاخه" : "باز کردن این شاخه";
    }

    // Hides every row under a closed unit; shows the rest.
    function refresh() {
        let closedAt = Infinity;
        for (const row of rows()) {
            const node = row.querySelector(".tree-node");
            const level = Number(node.dataset.level);
            if (level <= closedAt) {
                closedAt = Infinity;
            }
            row.hidden = level > closedAt;
            const toggle = node.querySelector(".tree-toggle");
            if (!row.hidden && toggle && toggle.getAttribute("aria-expanded") === "false") {
                closedAt = level;
            }
        }
    }

    function setAll(open) {
        document.querySelectorAll("#result_list .tree-toggle").forEach((toggle) => setOpen(toggle, open));
        refresh();
    }

    document.addEventListener("click", (event) => {
        const toggle = event.target.closest(".tree-toggle");
        if (toggle) {
            event.preventDefault();
            setOpen(toggle, toggle.getAttribute("aria-expanded") === "false");
            refresh();
            return;
        }
        const action = event.target.closest("[data-tree-action]");
        if (action) {
            event.preventDefault();
            setAll(action.dataset.treeAction === "expand");
        }
    });

    document.addEventListener("DOMContentLoaded", () => {
        document.querySelectorAll("#result_list .tree-toggle").forEach((toggle) => setOpen(toggle, true));
    });
})();
