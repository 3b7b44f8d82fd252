"""``corridor xlsform OUT.xlsx``: the registration form as an XLSForm for ODK Collect and
KoBoCollect (upload it to KoBoToolbox or ODK Central; import their CSV or XLSX exports with
``POST /api/operations/{id}/imports/registrations``).

The form is converted to an XForm by pyxform before it is written, so a file that is written is
one ODK accepts. Exit codes: 0 written, 1 the form did not convert, 2 bad input (the path).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, get_args

import typer
from rich.console import Console
from rich.markup import escape

from corridor.reports.xlsform import Codes, to_xform, xlsform_bytes

out = Console()
err = Console(stderr=True, soft_wrap=True)


def registration_codes() -> Codes:
    """The codes the service accepts, as the form's choice lists."""
    from corridor.server.registration.schemas import AGE_BANDS, VULNERABILITIES, Sex

    return Codes(sexes=get_args(Sex), age_bands=AGE_BANDS, vulnerabilities=VULNERABILITIES)


def xlsform(
    path: Annotated[Path, typer.Argument(help="The .xlsx file to write.", show_default=False)],
    title: Annotated[str, typer.Option(help="The form's title on the phones.")] = "Registration",
    version: Annotated[
        str | None, typer.Option(help="The form's version (default: the date and time, UTC).")
    ] = None,
) -> None:
    """Write the registration form as an XLSForm (ODK Collect, KoBoCollect)."""
    if path.suffix.lower() != ".xlsx":
        err.print(f"[bold red]error:[/] {escape(str(path))}: the form is an .xlsx file; name it so")
        raise typer.Exit(2)
    if not path.parent.is_dir():
        err.print(f"[bold red]error:[/] {escape(str(path.parent))}: no such folder; make it first")
        raise typer.Exit(2)
    version = version or datetime.now(UTC).strftime("%Y%m%d%H%M")
    data = xlsform_bytes(registration_codes(), title=title, version=version)
    try:
        to_xform(data)
    except Exception as exc:  # pyxform's errors name the sheet and row
        err.print(f"[bold red]error:[/] the form does not convert to an XForm: {escape(str(exc))}")
        raise typer.Exit(1) from None
    try:
        path.write_bytes(data)
    except OSError as exc:
        err.print(f"[bold red]error:[/] {escape(str(path))}: {escape(exc.strerror or str(exc))}")
        raise typer.Exit(2) from None
    out.print(f"wrote {escape(str(path))} (form {title!r}, version {version})", highlight=False)
