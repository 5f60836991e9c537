"""The sweep view: a sweep folder's points as a sortable table, beside the sweep's plots.

What it shows comes from :mod:`wavefab.designkit.sweep.folder` (the rows of ``summary.csv``,
ranked as ``wavefab sweep`` ranks them); the view only displays and sorts them, and says which
point the user picked: opening it is the window's business (:mod:`..actions.sweep`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QPixmap, QResizeEvent
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from wavefab.designkit.sweep.folder import SweepFolder, read_sweep_folder, sort_key
from wavefab.designkit.sweep.spec import SweepError

#: The role under which a cell gives its raw value (a number stays a number).
VALUE_ROLE = Qt.ItemDataRole.UserRole


def cell_text(value: Any) -> str:
    """A cell as the table shows it: floats to 6 significant digits, like ``summary.md``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


class SweepTableModel(QAbstractTableModel):
    """The rows of a sweep, one point each; sorts numerically, empty cells always last."""

    def __init__(self, rows: list[dict[str, Any]], columns: list[str],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows = list(rows)
        self.columns = list(columns)

    def set_rows(self, rows: list[dict[str, Any]], columns: list[str]) -> None:
        """Show other rows (a reloaded sweep)."""
        self.beginResetModel()
        self.rows, self.columns = list(rows), list(columns)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        """Points (none below a cell: the table is flat)."""
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        """Columns: rank, id, status, swept keys, metrics, seconds, reason."""
        return 0 if parent is not None and parent.isValid() else len(self.columns)

    def value(self, row: int, column: str) -> Any:
        """The raw value of ``column`` in ``row`` (as ``sweep.json`` holds it)."""
        return self.rows[row].get(column, "")

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Text, raw value, alignment, the failure reason as tooltip, failed rows greyed."""
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        value = row.get(self.columns[index.column()], "")
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(value)
        if role == VALUE_ROLE:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole:
            key = sort_key(value)
            numeric = key is not None and key[0] == 0
            horizontal = Qt.AlignmentFlag.AlignRight if numeric else Qt.AlignmentFlag.AlignLeft
            return horizontal | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.ToolTipRole and row.get("reason"):
            return str(row["reason"])
        if role == Qt.ItemDataRole.ForegroundRole and row.get("status") != "done":
            return QBrush(QColor("#888888"))
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Column names across the top, nothing down the side (the rank column says it)."""
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column``: numbers by value (lengths by metres), text after; empty last.

        Empty cells (a failed point's metric) stay last both ways, so that sorting the metric
        column either way starts with points that have one. Ties keep the current order.
        """
        if not 0 <= column < len(self.columns):
            return
        name = self.columns[column]
        keyed = [(sort_key(r.get(name, "")), k) for k, r in enumerate(self.rows)]
        present = sorted((kv for kv in keyed if kv[0] is not None), key=lambda kv: kv[0],
                         reverse=order == Qt.SortOrder.DescendingOrder)
        order_ = [k for _, k in present] + [k for key, k in keyed if key is None]
        self.layoutAboutToBeChanged.emit([], QAbstractTableModel.LayoutChangeHint.VerticalSortHint)
        moved = {old: new for new, old in enumerate(order_)}
        persistent = self.persistentIndexList()
        self.rows = [self.rows[k] for k in order_]
        self.changePersistentIndexList(
            persistent, [self.index(moved[i.row()], i.column()) for i in persistent])
        self.layoutChanged.emit([], QAbstractTableModel.LayoutChangeHint.VerticalSortHint)


class PlotImage(QLabel):
    """A PNG plot shrunk to fit its room (never enlarged past its pixels), aspect kept."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(200, 150)  # the splitter may make the plots narrow
        self.original = QPixmap(str(path))
        if self.original.isNull():
            self.setText(f"cannot read {path.name}")
        else:
            self.setPixmap(self.original)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Fit the plot to the new size."""
        super().resizeEvent(event)
        if self.original.isNull():
            return
        room = self.size()
        if (self.original.width() <= room.width()
                and self.original.height() <= room.height()):
            self.setPixmap(self.original)
        else:
            self.setPixmap(self.original.scaled(room, Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation))


class SweepView(QWidget):
    """A sweep folder: its summary line, its points (sortable), its plots in tabs.

    Signals:
        point_activated(str): the user double-clicked the point with this id.
    """

    point_activated = pyqtSignal(str)

    def __init__(self, folder: SweepFolder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        reload = QPushButton("Reload")
        reload.setToolTip("read sweep.json again (a sweep that is still running adds points)")
        reload.clicked.connect(self.reload)
        self.model = SweepTableModel(folder.rows(), folder.columns(), self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        # enabling sorting sorts at once by the indicator: make that the ranking as written
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.table.setToolTip("double-click a point to open its results in the designer")
        self.plots = QTabWidget()
        self.plot_labels: dict[str, PlotImage] = {}
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.plots)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([760, 540])  # the table first: the plots shrink to fit
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(reload)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self._show_folder()
        self.resize(1300, 720)

    def _show_folder(self) -> None:
        folder = self.folder
        self.setWindowTitle(f"{folder.name} — {folder.path} · wavefab sweep")
        updated = f" (updated {folder.updated})" if folder.updated else ""
        self.heading.setText(f"{folder.summary()}{updated}. Double-click a point to open it.")
        self.plots.clear()
        self.plot_labels.clear()
        for path in folder.plots:
            label = PlotImage(path)
            self.plots.addTab(label, path.stem.replace("_", " "))
            self.plot_labels[path.name] = label
        if not folder.plots:
            self.plots.addTab(QLabel("no plots yet (they are drawn when the sweep ends)"),
                              "plots")

    def column(self, name: str) -> int:
        """The table's column index of ``name`` (-1 when it has none)."""
        return self.model.columns.index(name) if name in self.model.columns else -1

    def point_id(self, row: int) -> str:
        """The id of the point shown in table row ``row``."""
        return str(self.model.value(row, "id"))

    def reload(self) -> bool:
        """Read the sweep folder again; a damaged record is said in the heading, kept as was."""
        try:
            folder = read_sweep_folder(self.folder.path)
        except SweepError as exc:
            self.heading.setText(f"cannot reload: {exc}")
            return False
        self.folder = folder
        header = self.table.horizontalHeader()
        self.model.set_rows(folder.rows(), folder.columns())
        # the rows come ranked; keep the user's chosen order if the column still exists
        self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self._show_folder()
        return True

    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.point_activated.emit(self.point_id(index.row()))

    @property
    def path(self) -> Path:
        """The sweep folder shown."""
        return self.folder.path
