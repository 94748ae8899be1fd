"""The kernel of the delivery front office: settings, database, auth, events, realtime, errors, CLI.

This module stays free of imports of the domain packages; `frontoffice.app.create_app`
is the composition root.
"""

__version__ = "0.1.0"
