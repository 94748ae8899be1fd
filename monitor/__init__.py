"""Monitor: live delivery metrics, loyalty, the manager monitor over websockets, reports."""
