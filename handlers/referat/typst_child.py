"""Typesets one referat PDF in a process of its own: `python -I typst_child.py TEMPLATE FONTS STANDARD STAMP`,
the view's JSON on stdin, the PDF on stdout, Typst's message on stderr and exit status 1 on error.

Why a process per PDF: Typst memoizes everything it lays out in process-wide caches that the
Python binding never empties (about 100 MB more after each 500-member referat, measured), and a
panic in its Rust code must not take the server down. A fresh interpreter that imports only
`typst` costs about 0.15 s here, small beside the typesetting itself.
Kept free of project imports on purpose: it runs by path, without the `handlers` package.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    import typst

    template, fonts, standard, stamp = argv
    data = sys.stdin.buffer.read().decode("utf-8")
    try:
        pdf = typst.compile(
            template,  # by path: Typst may read nothing outside its folder
            font_paths=[fonts],
            ignore_system_fonts=True,
            pdf_standards=[standard],  # type: ignore[list-item]  # checked by Typst itself
            sys_inputs={"data": data},
            timestamp=int(stamp),
        )
    except typst.TypstError as error:
        sys.stderr.write(f"{error.message}\n{error.diagnostic}\n")
        return 1
    if not isinstance(pdf, bytes):
        sys.stderr.write("Typst returned no PDF\n")
        return 1
    sys.stdout.buffer.write(pdf)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
