"""The side panels: settings forms (:mod:`.settings`), run curves (:mod:`.plots`), the log."""

from .log import LogPanel
from .plots import RunPlots
from .settings import SettingsPanel, check_recordings, parse_size

__all__ = ["LogPanel", "RunPlots", "SettingsPanel", "check_recordings", "parse_size"]
