"""``python -m gis``: same as the ``gis`` command."""

from gis.cli import main

main()
