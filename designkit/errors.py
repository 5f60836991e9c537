"""Errors raised by :mod:`wavefab.designkit`: one base class, built-in parents for generic code."""

from __future__ import annotations


class DesignError(Exception):
    """Base class of every error raised by :mod:`wavefab.designkit`."""


class DesignValueError(DesignError, ValueError):
    """An argument or setting has a value the design core cannot use; the message names it."""
