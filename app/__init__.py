"""The user-facing front ends: the ``wavefab`` CLI and (later) the Qt desktop GUI."""
