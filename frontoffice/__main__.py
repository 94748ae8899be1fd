"""``python -m frontoffice``: the ``frontoffice`` command."""

from frontoffice.launch import main

main()
