"""The rows of an organizations import: a unit, its kind, its parent (a unit already in the tree or
another row of the file) and, for provincial units, its province.

Checked per chunk with one query (the chunk's codes and parent codes that already exist), then
across the file: codes once only, every parent found, no row its own ancestor. Written in one
transaction under the tree lock (models/tree_lock.py): the new units are inserted in bulk, parents
before children, and the nested-set columns of the tree are then numbered again in one pass and
written where they changed — rather than one mptt insert per unit, each shifting the rest of the
tree. New units take their place among their siblings by code, as mptt's ``order_insertion_by``
would put them; existing units keep their order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from models import excel_cells as cells
from models.excel_import import CHUNK_ROWS, Problems, Progress
from models.excel_templates import IMPORTABLE_ORGANIZATION_KINDS, ORGANIZATION_COLUMNS
from models.geography import Province
from models.organization import PROVINCIAL_KINDS, Organization, OrganizationKind
from models.text import normalize_for_search
from models.tree_lock import organization_tree_lock

CODE, NAME, KIND, PARENT, PROVINCE = (column.header for column in ORGANIZATION_COLUMNS)

KIND_LABELS = tuple(str(kind.label) for kind in IMPORTABLE_ORGANIZATION_KINDS)
KINDS = cells.choices_of(OrganizationKind)


@dataclass
class Row:
    number: int
    code: str
    name: str
    kind: str
    parent_code: str
    province_id: int | None


@dataclass(frozen=True)
class Existing:
    pk: int
    tree_id: int
    level: int


class OrganizationRows:
    def __init__(self, job, viewer, problems: Problems) -> None:
        self.problems = problems
        self.rows: list[Row] = []
        self.codes_in_file: dict[str, int] = {}
        self.existing_parents: dict[str, Existing] = {}
        # Provinces by code and by folded name: 31 rows, read once.
        self.provinces: dict[str, int] = {}
        for pk, code, name in Province.objects.values_list("pk", "code", "name"):
            self.provinces[code.upper()] = pk
            self.provinces[normalize_for_search(name)] = pk

    # --- checking ---

    def check_chunk(self, chunk: list[tuple[int, tuple]]) -> None:
        parsed = [row for row in (self._parse(number, values) for number, values in chunk) if row is not None]
        wanted = {row.code for row in parsed} | {row.parent_code for row in parsed}
        existing = {
            code: Existing(pk, tree_id, level)
            for code, pk, tree_id, level in Organization.objects.filter(code__in=wanted).values_list(
                "code", "pk", "tree_id", "level"
            )
        }
        for row in parsed:
            if row.code in existing:
                self.problems.add(
                    row.number, CODE, "ORGANIZATION_EXISTS", f"دستگاهی با کد «{row.code}» پیش‌تر ثبت شده است."
                )
                continue
            if row.parent_code in existing:
                self.existing_parents[row.parent_code] = existing[row.parent_code]
            self.rows.append(row)

    def _parse(self, number: int, values: tuple) -> Row | None:
        from models.import_assignments import RowReader

        reader = RowReader(number, self.problems)
        code, name, kind, parent, province = values
        code = reader.read(CODE, cells.code, code)
        name = reader.read(NAME, cells.text, name, max_length=200)
        kind = reader.read(KIND, cells.choice, kind, choices=KINDS, allowed=KIND_LABELS)
        parent = reader.read(PARENT, cells.code, parent)
        province_text = reader.read(PROVINCE, cells.text, province, max_length=64, required=False)
        if kind == OrganizationKind.ARO:
            reader.refuse(KIND, "INVALID_CHOICE", "سازمان اداری و استخدامی کشور ریشه درخت است و تنها یکی است.")
        province_id = None
        if kind is not None and kind in PROVINCIAL_KINDS:
            if not province_text:
                reader.refuse(PROVINCE, "PROVINCE_REQUIRED", "برای واحد استانی یا منطقه‌ای، کد استان را وارد کنید.")
            else:
                province_id = self.provinces.get(province_text.upper()) or self.provinces.get(
                    normalize_for_search(province_text)
                )
                if province_id is None:
                    reader.refuse(PROVINCE, "UNKNOWN_PROVINCE", f"استانی با کد یا نام «{province_text}» پیدا نشد.")
        elif kind is not None and province_text:
            reader.refuse(
                PROVINCE, "PROVINCE_NOT_ALLOWED", "تنها واحدهای استانی و منطقه‌ای استان دارند؛ این خانه را خالی بگذارید."
            )
        if code is not None:
            if code in self.codes_in_file:
                reader.refuse(CODE, "DUPLICATE_ROW", f"کد «{code}» در ردیف {self.codes_in_file[code]} هم آمده است.")
            else:
                self.codes_in_file[code] = number
            if parent is not None and parent == code:
                reader.refuse(PARENT, "PARENT_CYCLE", "دستگاه نمی‌تواند بالادست خودش باشد.")
        if not reader.ok:
            return None
        return Row(number=number, code=code, name=name, kind=kind, parent_code=parent, province_id=province_id)

    def finish(self) -> None:
        """Every parent is a unit of the tree or a good row of the file, and no chain of rows loops."""
        in_file = {row.code: row for row in self.rows}
        good = []
        for row in self.rows:
            problem = self._parent_problem(row, in_file)
            if problem is None:
                good.append(row)
            else:
                self.problems.add(row.number, PARENT, *problem)
        self.rows = good

    def _parent_problem(self, row: Row, in_file: dict[str, Row]) -> tuple[str, str] | None:
        seen = {row.code}
        parent = row.parent_code
        while parent not in self.existing_parents:
            above = in_file.get(parent)
            if above is None:
                if parent in self.codes_in_file:  # a row of the file, refused for its own reasons
                    return "UNKNOWN_PARENT", f"ردیف دستگاه بالادست «{parent}» نادرست است؛ نخست آن را اصلاح کنید."
                return "UNKNOWN_PARENT", f"دستگاه بالادستی با کد «{parent}» نه ثبت شده است و نه در این فایل آمده است."
            if above.code in seen:
                return "PARENT_CYCLE", f"زنجیره بالادست‌های «{row.code}» به خودش بازمی‌گردد."
            seen.add(above.code)
            parent = above.parent_code
        return None

    # --- writing (inside the job's transaction) ---

    def write(self, progress: Progress) -> int:
        with organization_tree_lock():
            placed: dict[str, Existing] = dict(self.existing_parents)
            pending = list(self.rows)
            written = 0
            # Generations: rows whose parent is placed go in first, then their children, and so on.
            while pending:
                ready = [row for row in pending if row.parent_code in placed]
                pending = [row for row in pending if row.parent_code not in placed]
                for start in range(0, len(ready), CHUNK_ROWS):
                    chunk = ready[start : start + CHUNK_ROWS]
                    created = Organization.objects.bulk_create(
                        [self._unit(row, placed[row.parent_code]) for row in chunk]
                    )
                    if any(unit.pk is None for unit in created):  # a database that returns no ids
                        created = Organization.objects.filter(code__in=[row.code for row in chunk])
                    for unit in created:
                        placed[unit.code] = Existing(unit.pk, unit.tree_id, unit.level)
                    written += len(chunk)
                    progress.written(written)
            renumber_trees({unit.tree_id for unit in placed.values()})
        return written

    @staticmethod
    def _unit(row: Row, parent: Existing) -> Organization:
        # Nested-set bounds are placeholders until renumber_trees (same transaction, same lock).
        return Organization(
            code=row.code,
            name=row.name,
            search_name=normalize_for_search(f"{row.name} {row.code}"),
            kind=row.kind,
            province_id=row.province_id,
            parent_id=parent.pk,
            tree_id=parent.tree_id,
            level=parent.level + 1,
            lft=0,
            rght=0,
        )


def renumber_trees(tree_ids: set[int]) -> int:
    """Numbers ``lft``/``rght``/``level`` of the given trees again from their parent links, in one
    depth-first pass; writes only the rows that changed. Existing siblings keep their order; a
    new unit (``lft`` 0) goes before the first sibling with a greater code. Returns rows written.
    Call under the tree lock."""
    changed = []
    for tree_id in sorted(tree_ids):
        nodes = list(
            Organization.objects.filter(tree_id=tree_id)
            .order_by("lft", "code")
            .only("pk", "parent_id", "code", "lft", "rght", "level")
        )
        children: dict[int | None, list[Organization]] = defaultdict(list)
        for node in nodes:
            children[node.parent_id].append(node)
        for siblings in children.values():
            _place_new_siblings(siblings)
        counter = 0
        # Iterative depth-first walk: (node, level, entering?)
        stack = [(root, 0, True) for root in reversed(children[None])]
        while stack:
            node, level, entering = stack.pop()
            counter += 1
            if entering:
                new_lft, node.new_level = counter, level
                node.new_lft = new_lft
                stack.append((node, level, False))
                stack.extend((child, level + 1, True) for child in reversed(children[node.pk]))
            else:
                if (node.lft, node.rght, node.level) != (node.new_lft, counter, node.new_level):
                    node.lft, node.rght, node.level = node.new_lft, counter, node.new_level
                    changed.append(node)
    Organization.objects.bulk_update(changed, ["lft", "rght", "level"], batch_size=CHUNK_ROWS)
    return len(changed)


def _place_new_siblings(siblings: list[Organization]) -> None:
    """In place: existing siblings in their order, each new one (lft 0) before the first greater code."""
    old = [node for node in siblings if node.lft]
    for node in sorted((node for node in siblings if not node.lft), key=lambda n: n.code):
        index = next((i for i, other in enumerate(old) if other.code > node.code), len(old))
        old.insert(index, node)
    siblings[:] = old
