"""The one way every widget replaces what its ``Output`` shows."""

from __future__ import annotations

import io

__all__ = ["replace_output"]


def replace_output(out, *items) -> None:
    """Show ``items`` in ``out`` in place of whatever it showed, in one state update.

    ``clear_output()`` travels on another channel and can arrive after the new
    outputs, blanking them; it also needs a front end. Setting ``out.outputs``
    once is ordered and works headless. A ``str`` is printed as it is; a
    matplotlib figure becomes a PNG (with or without the inline backend) and is
    closed; anything else goes through IPython's display formatter.
    """
    from IPython.core.interactiveshell import InteractiveShell

    fmt = InteractiveShell.instance().display_formatter.format
    outputs = []
    for item in items:
        if isinstance(item, str):
            outputs.append({"output_type": "stream", "name": "stdout", "text": item})
            continue
        if hasattr(item, "savefig"):
            item = _png(item)
        data, metadata = fmt(item)
        outputs.append({"output_type": "display_data", "data": data, "metadata": metadata})
    out.outputs = tuple(outputs)


def _png(fig):
    import matplotlib.pyplot as plt
    from IPython.display import Image

    png = io.BytesIO()
    fig.savefig(png, format="png")
    plt.close(fig)
    return Image(data=png.getvalue(), format="png")
