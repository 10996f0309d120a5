"""Library messages in the Processing dialog's words.

Library messages name the `gis` functions' parameters in backticks (`invalid="skip"`,
`node_crossings=False`; `gis.notes.PARAMETER`). In QGIS the user sets a Processing
parameter instead, shown by its description: the message names that. Most tools' parameter
names are the library's in capitals (``gap_m`` → ``GAP_M``); the exceptions are listed here
with their value spelling. Parameters a tool does not have (``input_crs``: a QGIS layer
carries its CRS) are left as the library names them.

No QGIS import: the mapping is tested without QGIS.
"""

from __future__ import annotations

from collections.abc import Callable

from gis.notes import rename_parameters

#: Library parameter → the Processing parameter that sets it, where the name differs.
PARAMETER_OF = {"node_crossings": "NODING", "tree_default_crown_m": "TREE_CROWN_M",
                "estates_path": "ESTATES"}
#: Library values → the Processing enum's option, where they differ.
VALUE_OF = {"node_crossings": {"True": "on", "False": "off", "auto": "auto"}}


def in_qgis_words(message: str, describe: Callable[[str], str | None]) -> str:
    """``message`` with each library parameter a tool has shown as that tool's parameter:
    “description” = value. ``describe(NAME)`` gives the description of the tool's
    parameter NAME, or None when the tool has none of that name."""

    def rename(name: str, value: str | None, layer: str | None) -> str | None:
        description = describe(PARAMETER_OF.get(name, name.upper()))
        if description is None:
            return None
        text = f"“{description}”"
        if value is not None:
            text += f" = {VALUE_OF.get(name, {}).get(value, value)}"
        return text + (f" for the {layer}" if layer else "")

    return rename_parameters(message, rename)
